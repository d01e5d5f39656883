from __future__ import annotations

import dataclasses
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template.defaultfilters import filesizeformat

from knowledge import conf
from knowledge.models import Chunk, Document, DocumentStatus
from knowledge.providers.base import PUBLIC_MESSAGES, ProviderError, ProviderErrorKind
from knowledge.providers.fake import FakeEmbeddingProvider
from knowledge.tests.factories import FAQ_ROWS, add_document, faq_csv
from supportai.bidi import isolate


def _tags_stripped(body):
    return re.sub(r"<[^>]+>", "", body)


def test_documents_page_lists_only_the_current_tenants_documents(client, owner, tenant, other_tenant):
    add_document(tenant, "Parking <b>guide</b>", "Free parking.")
    add_document(other_tenant, "Their secret", "Nope.")
    client.force_login(owner)
    response = client.get("/console/knowledge/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "Parking &lt;b&gt;guide&lt;/b&gt;" in body and "Their secret" not in body
    assert "test uploads" in body


def test_owner_uploads_and_sees_per_file_errors(client, owner, tenant, django_capture_on_commit_callbacks):
    client.force_login(owner)
    files = [SimpleUploadedFile("hours.md", b"# Hours\n\nOpen 9 to 7."), SimpleUploadedFile("empty.md", b"")]
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post("/console/knowledge/", {"upload": files}, follow=True)
    assert len(callbacks) == 1  # one indexing task for the one good document
    body = response.content.decode()
    assert f"{isolate('hours.md')}: {isolate('Hours')}: created" in body
    assert f"{isolate('empty.md')}: The file has no text to index." in body
    assert Document.objects.for_tenant(tenant).get().status == "ready"


def test_a_file_over_the_limit_is_told_the_limit_as_the_upload_form_states_it(client, owner, tenant, monkeypatch):
    # given a limit of 200,000 bytes per file, which the upload form states as 195.3 KB
    monkeypatch.setattr(conf, "SETTINGS", dataclasses.replace(conf.SETTINGS, max_upload_bytes=200_000))
    client.force_login(owner)
    stated = " ".join(filesizeformat(200_000).split())
    assert f"each up to {stated}" in " ".join(
        _tags_stripped(client.get("/console/knowledge/").content.decode()).split()
    )
    manual = SimpleUploadedFile("manual.md", b"# Manual\n\n" + b"x" * 359_997)
    # when the owner uploads a larger file
    body = client.post("/console/knowledge/", {"upload": [manual]}, follow=True).content.decode()
    # then its error gives both sizes in the form's units too, and nothing is stored
    said = f"{isolate('manual.md')}: The file is 360007 bytes (351.6 KB); the limit is 200000 bytes ({stated})."
    assert said in " ".join(body.split())
    assert not Document.objects.for_tenant(tenant).exists()


def test_agent_cannot_upload(client, agent, tenant):
    client.force_login(agent)
    response = client.post("/console/knowledge/", {"upload": [SimpleUploadedFile("a.md", b"# A\n\nx")]})
    assert response.status_code == 403
    assert not Document.objects.exists()


def test_search_page_shows_ranked_passages_with_ranks(client, agent, tenant, other_tenant):
    add_document(tenant, "Parking", "Free parking behind the studio.")
    add_document(other_tenant, "Other parking", "Valet parking only.")
    client.force_login(agent)
    body = client.get("/console/knowledge/search/", {"q": "parking", "mode": "hybrid", "k": 5}).content.decode()
    assert "[1] Parking" in _tags_stripped(body) and "bm25 rank 1" in body and "dense rank 1" in body
    assert "Other parking" not in body


@pytest.mark.parametrize("mode", ["bm25", "dense", "hybrid"])
def test_search_box_in_every_mode_shows_only_the_current_tenants_passages(client, agent, tenant, other_tenant, mode):
    # given: another tenant's passages match the query better than any of the tenant's own
    add_document(tenant, "Parking", "Free parking behind the studio.")
    add_document(tenant, "Hours", "Open daily from nine to seven, parking included.")
    for n in range(3):
        add_document(other_tenant, f"Secret parking {n}", "Parking. Staff parking code 4411, parking.")
    client.force_login(agent)
    # when the tenant's agent searches in that mode
    response = client.get("/console/knowledge/search/", {"q": "parking", "mode": mode, "k": 10})
    # then the ranked passages are the tenant's two, and nothing of the other tenant's is on the page
    assert response.status_code == 200
    body = _tags_stripped(response.content.decode())
    assert "[1] " in body and "[2] " in body and "[3] " not in body
    assert "Parking" in body and "Hours" in body
    assert "Secret parking" not in body and "4411" not in body


def test_outsider_sees_nothing_of_the_tenant(client, outsider, tenant, other_tenant):
    # given a document of each tenant that the search matches
    add_document(tenant, "Parking", "Free parking.")
    add_document(other_tenant, "Valet", "Valet parking at the door.")
    client.force_login(outsider)
    # when the other tenant's owner lists and searches their knowledge
    listed = client.get("/console/knowledge/")
    searched = client.get("/console/knowledge/search/", {"q": "parking", "k": 5, "mode": "bm25"})
    # then they see their own document and not the tenant's
    for response in (listed, searched):
        assert response.status_code == 200
        body = response.content.decode()
        assert "Valet" in body and "Parking" not in body


def test_admin_document_list_is_tenant_scoped(client, owner, outsider, tenant):
    add_document(tenant, "Parking", "Free parking.")
    client.force_login(outsider)
    assert "Parking" not in client.get("/admin/knowledge/document/").content.decode()
    client.force_login(owner)
    assert "Parking" in client.get("/admin/knowledge/document/").content.decode()


def test_search_page_explains_the_hybrid_weights_with_the_tenants_own_scale(client, agent, tenant, other_tenant):
    from knowledge.models import RetrievalTuning

    add_document(tenant, "Parking", "Free parking behind the studio.")
    add_document(other_tenant, "Orders", "Swap the items of an order.")
    RetrievalTuning.objects.create(tenant=other_tenant, keyword_scale=0.25)
    client.force_login(agent)
    hybrid = {"q": "swap free parking", "mode": "hybrid", "k": 5}
    # "swap" is only the other tenant's word: a third of this query is unknown here, and with one
    # passage dense has no second best, a tie (0.4 x 1.0 x (2/3)⁸ = 0.016)
    body = client.get("/console/knowledge/search/", hybrid).content.decode()
    assert "dense 0.98" in body and "keywords 0.02" in body and "conceptual query" in body
    assert "67 % of its words are in your knowledge" in body and "tenant keyword scale 1.00" in body
    assert "dense found only one passage, which counts as a tie" in body
    RetrievalTuning.objects.create(tenant=tenant, keyword_scale=0.4)
    body = client.get("/console/knowledge/search/", hybrid).content.decode()
    assert "dense 0.99" in body and "keywords 0.01" in body and "tenant keyword scale 0.40" in body
    bm25 = client.get("/console/knowledge/search/", {"q": "swap free parking", "mode": "bm25", "k": 5}).content.decode()
    assert "Hybrid weights" not in bm25


def _weighing(body):
    """The search page's hybrid weights paragraph, its whitespace collapsed."""
    return " ".join(body[body.index('data-testid="weighing"') :].split("</p>")[0].split())


@pytest.mark.parametrize(("documents", "said"), [(0, "dense found no passage"), (1, "dense found only one passage")])
def test_search_page_says_when_dense_found_no_two_passages_to_compare(client, agent, tenant, documents, said):
    # given a tenant with no document, or one
    for n in range(documents):
        add_document(tenant, f"Parking {n}", "Free parking behind the studio.")
    client.force_login(agent)
    # when
    body = client.get("/console/knowledge/search/", {"q": "parking", "mode": "hybrid", "k": 5}).content.decode()
    # then the weighing does not speak of two best passages there are not, and says how it counted them
    weighing = _weighing(body)
    assert f"{said}, which counts as a tie: keywords weigh their most" in weighing
    assert "two best passages" not in weighing


def test_search_page_gives_the_margin_of_dense_two_best_passages(client, agent, tenant):
    add_document(tenant, "Parking", "Free parking behind the studio.")
    add_document(tenant, "Hours", "Open from nine to seven.")
    client.force_login(agent)
    body = client.get("/console/knowledge/search/", {"q": "parking", "mode": "hybrid", "k": 5}).content.decode()
    assert re.search(r"dense's two best passages are 0\.\d{3} apart in cosine", _weighing(body))


def test_search_page_gives_the_surprise_of_keywords_best_match_in_the_tenants_own_knowledge(
    client, agent, tenant, other_tenant
):
    # given two of the tenant's passages, and another tenant holding the query's word everywhere
    add_document(tenant, "Parking", "Free parking behind the studio.")
    add_document(tenant, "Hours", "Open from nine to seven.")
    for n in range(5):
        add_document(other_tenant, f"Parking {n}", "Parking, parking and more parking.")
    client.force_login(agent)
    # when
    body = client.get("/console/knowledge/search/", {"q": "parking", "mode": "hybrid", "k": 5}).content.decode()
    # then the weighing gives the surprise from the tenant's own N (2) and df (1): ln 2 - ln 3 = -0.405
    # nats (the other tenant's counts would make it ln(1 + 1.5 / 6.5) - ln 8 = -1.87)
    weighing = _weighing(body)
    assert "keyword match surprise: -0.4 nats" in weighing
    assert re.search(r"apart in cosine, and keywords weigh more the closer they are; keyword match surprise", weighing)


def test_search_page_says_an_exact_identifier_keeps_its_weights_whatever_the_tenant_scale(client, agent, tenant):
    from knowledge.models import RetrievalTuning

    # given a tenant tuned to dense only (keyword scale 0), and a page naming an error code
    add_document(tenant, "Errors", "ERR-404 means the booking page has moved.")
    add_document(tenant, "Parking", "Free parking behind the studio.")
    RetrievalTuning.objects.create(tenant=tenant, keyword_scale=0)
    client.force_login(agent)
    # when staff test a query that is that code
    body = client.get("/console/knowledge/search/", {"q": "ERR-404", "mode": "hybrid", "k": 5}).content.decode()
    # then keywords keep their fixed weight, and the box says why rather than what did not count
    weighing = _weighing(body)
    assert "dense 0.15 · keywords 0.85" in weighing
    assert "an exact identifier, whose weights are fixed" in weighing
    assert "tenant keyword scale 0.00" not in weighing and "the closer they are" not in weighing
    assert "keyword match surprise" not in weighing and "how surprising the keyword match is" in weighing
    assert "exact_match" not in weighing


@pytest.mark.parametrize("query", ["😀🚗", "is it the", "!!!"])
def test_search_page_says_when_keyword_search_has_no_words_of_the_query(client, agent, tenant, query):
    # given knowledge, and a query of no word keyword search indexes (emoji, stop words, punctuation)
    add_document(tenant, "Parking", "Free parking behind the studio.")
    client.force_login(agent)
    # when
    body = client.get("/console/knowledge/search/", {"q": query, "mode": "hybrid", "k": 5}).content.decode()
    # then the weighing says so, rather than that all its words are in the knowledge
    weighing = " ".join(body[body.index('data-testid="weighing"') :].split("</p>")[0].split())
    assert "keyword search has no words of it to look up" in weighing and "% of its words" not in weighing


def test_search_page_says_a_tenant_without_knowledge_has_no_words_of_the_query(client, agent, tenant, other_tenant):
    add_document(other_tenant, "Parking", "Free parking behind the studio.")
    client.force_login(agent)
    body = client.get("/console/knowledge/search/", {"q": "parking", "mode": "hybrid", "k": 5}).content.decode()
    assert "keyword search has no words of it to look up" in body and "% of its words" not in body


def test_search_page_looks_up_the_query_vocabulary_once(client, agent, tenant, monkeypatch):
    from knowledge import retrieval

    add_document(tenant, "Parking", "Free parking behind the studio.")
    looked_up: list[str] = []
    real = retrieval.keyword_evidence

    def counting(**kwargs):
        looked_up.append(kwargs["query"])
        return real(**kwargs)

    monkeypatch.setattr(retrieval, "keyword_evidence", counting)
    client.force_login(agent)
    body = client.get("/console/knowledge/search/", {"q": "free parking", "mode": "hybrid", "k": 5}).content.decode()
    # the weights shown are the ones retrieval used, from the one lookup it made
    assert "Hybrid weights" in body and "[1] Parking" in _tags_stripped(body)
    assert looked_up == ["free parking"]


def _document_rows(body):
    """The documents table as {title: [cell texts]}, tags stripped."""
    table = body[body.index('data-testid="documents"') :]
    table = table[: table.index("</table>")]
    rows = {}
    for row in re.findall(r"<tr>(.*?)</tr>", table, re.S):
        cells = [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        if cells:
            rows[cells[0]] = cells
    return rows


def test_documents_page_shows_status_chunks_and_errors_of_the_tenants_documents(client, agent, tenant, other_tenant):
    # given an indexed and a failed document here, and a failed one of another tenant
    ready = add_document(tenant, "Parking", "Free parking behind the studio. " * 40)
    failed = add_document(tenant, "Prices", "Yoga kostet 12 Euro.", language="de")
    Document.objects.filter(pk=failed.pk).update(
        status=DocumentStatus.FAILED, chunk_count=0, error="The embedding service timed out; try again."
    )
    theirs = add_document(other_tenant, "Their prices", "Secret.")
    Document.objects.filter(pk=theirs.pk).update(status=DocumentStatus.FAILED, error="Their own failure")
    client.force_login(agent)
    # when
    body = client.get("/console/knowledge/").content.decode()
    # then: title, source, language, status, chunks, updated, error
    rows = _document_rows(body)
    assert ready.chunk_count > 1
    assert rows["Parking"][1:5] == ["test uploads", "en", "Ready", str(ready.chunk_count)] and rows["Parking"][6] == ""
    assert rows["Prices"][2:5] == ["de", "Failed", "0"]
    assert rows["Prices"][6] == "The embedding service timed out; try again."
    assert set(rows) == {"Parking", "Prices"}
    assert "Their prices" not in body and "Their own failure" not in body


def test_documents_page_shows_an_upload_pending_until_its_indexing_task_has_run(
    client, owner, tenant, django_capture_on_commit_callbacks
):
    # given an upload whose indexing task is queued and has not run yet
    client.force_login(owner)
    files = [SimpleUploadedFile("parking.md", b"# Parking\n\nFree parking behind the studio.")]
    with django_capture_on_commit_callbacks(execute=False) as queued:
        client.post("/console/knowledge/", {"upload": files})
    assert len(queued) == 1
    # when the documents page is shown, then the document is pending with no chunks
    assert _document_rows(client.get("/console/knowledge/").content.decode())["Parking"][3:5] == ["Pending", "0"]
    # when the task has run, then it is ready with its chunks
    queued[0]()
    document = Document.objects.for_tenant(tenant).get()
    rows = _document_rows(client.get("/console/knowledge/").content.decode())
    assert rows["Parking"][3:5] == ["Ready", str(document.chunk_count)] and document.chunk_count >= 1


def test_documents_page_links_only_http_addresses(client, agent, tenant):
    # given documents whose uploads gave a script address and a web address
    hostile = add_document(tenant, "Hostile", "Boo.")
    fine = add_document(tenant, "Parking", "Free parking.")
    Document.objects.filter(pk=hostile.pk).update(url="javascript:alert(document.cookie)")
    Document.objects.filter(pk=fine.pk).update(url="https://alpha.example.com/parking")
    client.force_login(agent)
    # when
    body = client.get("/console/knowledge/").content.decode()
    # then
    # then each title leads to the document's page, and only the web address out
    assert "javascript:" not in body
    assert f'<td class="text"><a href="/console/knowledge/documents/{hostile.pk}/"><bdi>Hostile</bdi></a></td>' in body
    assert (
        f'<a href="/console/knowledge/documents/{fine.pk}/"><bdi>Parking</bdi></a> '
        '<a href="https://alpha.example.com/parking" rel="noopener" aria-label="Parking on the web">↗</a>'
    ) in body


def test_search_page_links_only_http_addresses(client, agent, tenant):
    hostile = add_document(tenant, "Parking rules", "Parking is free on Sundays.")
    fine = add_document(tenant, "Parking map", "The parking is behind the studio.")
    Document.objects.filter(pk=hostile.pk).update(url=" java\tscript:alert(document.cookie)")
    Document.objects.filter(pk=fine.pk).update(url="https://alpha.example.com/map")
    client.force_login(agent)
    body = client.get("/console/knowledge/search/", {"q": "parking", "mode": "bm25", "k": 5}).content.decode()
    assert "script:" not in body and re.search(r"\[\d\] <a [^>]+><bdi>Parking rules</bdi></a></h3>", body)
    assert re.search(
        r'\[\d\] <a [^>]+><bdi>Parking map</bdi></a> <a href="https://alpha.example.com/map" rel="noopener" '
        r'aria-label="Parking map on the web">↗</a></h3>',
        body,
    )


def test_search_passages_lead_to_their_chunks_on_the_documents_page(client, agent, tenant):
    # given a document of several parents, and the passage a search finds in it
    text = "\n\n".join(f"Paragraph {n}: the studio is open every day." for n in range(80)) + "\n\nValet parking."
    document = add_document(tenant, "Visiting", text)
    client.force_login(agent)
    passage = client.get("/console/knowledge/search/", {"q": "valet", "mode": "bm25", "k": 1}).context["passages"][0]
    assert passage.chunk_id != Chunk.objects.filter(document=document, level="parent").order_by("ordinal")[0].pk
    # when the agent views the search
    body = client.get("/console/knowledge/search/", {"q": "valet", "mode": "bm25", "k": 1}).content.decode()
    # then its title leads to the passage on the document's page, and each matched child to itself
    detail = f"/console/knowledge/documents/{document.pk}/"
    assert f'[1] <a href="{detail}?chunk={passage.chunk_id}#chunk-{passage.chunk_id}"><bdi>Visiting</bdi></a>' in body
    for child in passage.matched_chunk_ids:
        assert f'<a href="{detail}?chunk={child}#chunk-{child}">{child}</a>' in body
    # and there, that passage is shown with its children
    page = client.get(detail, {"chunk": passage.chunk_id}).content.decode()
    assert f'id="chunk-{passage.chunk_id}"' in page
    assert all(f'id="chunk-{child}"' in page for child in passage.matched_chunk_ids)


def test_search_page_says_the_embedding_service_failed_in_dense_mode(client, agent, tenant, monkeypatch):
    def outage(self, text):
        raise ProviderError("connection refused to 10.0.3.7:8443", kind=ProviderErrorKind.UNAVAILABLE)

    monkeypatch.setattr(FakeEmbeddingProvider, "embed_query", outage)
    add_document(tenant, "Parking", "Free parking behind the studio.")
    client.force_login(agent)

    response = client.get("/console/knowledge/search/", {"q": "parking", "mode": "dense", "k": 5})

    assert response.status_code == 200
    body = response.content.decode()
    # in our words: the error's own (an address of the platform's network) is for the log
    assert "The embedding service could not embed the query" in body and "10.0.3.7" not in body
    assert PUBLIC_MESSAGES[ProviderErrorKind.UNAVAILABLE] in body
    assert 'data-testid="passages"' not in body
    # announced to screen readers, as the console's other errors are
    assert re.search(r'role="alert">[^<]*The embedding service could not embed the query', body)


def test_search_link_with_only_a_query_uses_the_boxs_mode_and_k(client, agent, tenant, other_tenant):
    add_document(tenant, "Parking", "Free parking behind the studio.")
    add_document(other_tenant, "Other parking", "Valet parking only.")
    client.force_login(agent)
    response = client.get("/console/knowledge/search/", {"q": "parking"})
    body = response.content.decode()
    assert response.context["form"].cleaned_data == {"q": "parking", "mode": "hybrid", "k": 5}
    assert "[1] Parking" in _tags_stripped(body)
    assert "This field is required" not in body and "Other parking" not in body
    # an explicit mode still wins, and an empty query is still refused
    assert (
        client.get("/console/knowledge/search/", {"q": "parking", "mode": "bm25"}).context["form"].cleaned_data["mode"]
        == "bm25"
    )
    assert client.get("/console/knowledge/search/", {"q": ""}).context["form"].errors == {
        "q": ["This field is required."]
    }


def test_upload_says_which_rows_a_file_no_longer_holds_were_kept_while_another_file_failed(
    client, owner, tenant, django_capture_on_commit_callbacks
):
    # given an FAQ of three rows uploaded before
    client.force_login(owner)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/console/knowledge/", {"upload": [SimpleUploadedFile("faq.csv", faq_csv(FAQ_ROWS))]})
    # when it comes back with one row, next to an empty file
    files = [SimpleUploadedFile("faq.csv", faq_csv(FAQ_ROWS[:1])), SimpleUploadedFile("empty.md", b"")]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/console/knowledge/", {"upload": files}, follow=True)
    # then the two rows stay, as the upload had an error, and the page says so and what to do
    body = " ".join(response.content.decode().split())
    assert f"{isolate('empty.md')}: The file has no text to index." in body
    assert (
        f"{isolate('faq.csv')}: {isolate('Can I park?')}: unchanged; 2 no longer in the file, kept because another "
        f"file of this upload has errors: upload {isolate('faq.csv')} again once they are fixed" in body
    )
    assert Document.objects.for_tenant(tenant).count() == 3


def test_upload_of_a_file_of_many_documents_counts_them_instead_of_listing_every_title(
    client, owner, tenant, django_capture_on_commit_callbacks
):
    # given an FAQ of 300 rows uploaded before
    client.force_login(owner)
    faq = "question,answer\n" + "".join(f'"What does service number {i} include?","Item {i}."\n' for i in range(300))
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(
            "/console/knowledge/", {"upload": [SimpleUploadedFile("faq.csv", faq.encode())]}, follow=True
        )
    # when it comes back with one answer changed and 100 rows fewer
    edited = faq.replace("Item 7.", "Item seven.").splitlines(keepends=True)[:201]
    with django_capture_on_commit_callbacks(execute=True):
        again = client.post(
            "/console/knowledge/", {"upload": [SimpleUploadedFile("faq.csv", "".join(edited).encode())]}, follow=True
        )
    # then each message counts the file's documents by outcome, in a line one can read
    assert [str(m) for m in first.context["messages"]] == [f"{isolate('faq.csv')}: 300 documents: 300 created"]
    assert [str(m) for m in again.context["messages"]] == [
        f"{isolate('faq.csv')}: 200 documents: 1 updated, 199 unchanged; 100 no longer in the file, removed"
    ]
    assert Document.objects.for_tenant(tenant).count() == 200


def test_documents_page_filters_by_status_and_source_and_pages_within_them(client, agent, tenant, other_tenant):
    # given 55 ready help articles and, on page 2 by title, two failed website pages
    from knowledge.source_config import url_source_create

    for number in range(55):
        add_document(tenant, f"Article {number:02d}", f"Text {number}.")
    website = url_source_create(
        tenant=tenant, name="Help site", config={"start_url": "https://help.example.com/"}, sync_now=False
    )
    for title in ("Zebra crossing", "Zoo parking"):
        failed = add_document(tenant, title, "Gone.", source=website)
        Document.objects.filter(pk=failed.pk).update(status=DocumentStatus.FAILED, error="404 Not Found")
    theirs = add_document(other_tenant, "Their failure", "Secret.")
    Document.objects.filter(pk=theirs.pk).update(status=DocumentStatus.FAILED)
    client.force_login(agent)
    # when the agent lists the failed documents
    body = client.get("/console/knowledge/", {"status": "failed"}).content.decode()
    # then only those two are listed, and the filter shows what is chosen
    assert set(_document_rows(body)) == {"Zebra crossing", "Zoo parking"}
    assert '<option value="failed" selected>Failed</option>' in body
    # when they list one source's documents, then pages keep the filter
    uploads = Document.objects.for_tenant(tenant).get(title="Article 00").source
    body = client.get("/console/knowledge/", {"source": uploads.pk}).content.decode()
    assert len(_document_rows(body)) == 50 and f'href="?source={uploads.pk}&amp;page=2"' in body
    body = client.get("/console/knowledge/", {"source": uploads.pk, "page": 2}).content.decode()
    assert set(_document_rows(body)) == {f"Article {n}" for n in range(50, 55)}
    # and another tenant's source, or no such status, filters nothing in and leaks nothing
    their_source = theirs.source
    body = client.get("/console/knowledge/", {"source": their_source.pk, "status": "gone"}).content.decode()
    assert "Their failure" not in body and "Article 00" in body
