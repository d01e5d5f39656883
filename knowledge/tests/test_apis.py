from __future__ import annotations

import dataclasses
from collections.abc import Callable
from urllib.parse import urlencode

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from pytest_django import DjangoCaptureOnCommitCallbacks
from rest_framework.test import APIClient

from knowledge import conf
from knowledge.apis import FILES_WITHOUT_NAME, LANGUAGES_CONFLICT, NO_FILES, UNEXPECTED_FILE_PARTS
from knowledge.demo import demo_source
from knowledge.models import Chunk, Document, DocumentStatus, KnowledgeSource
from knowledge.multipart import UNFINISHED_BODY, UNREADABLE_PART, UNSUPPORTED_CHARSET
from knowledge.providers.base import PUBLIC_MESSAGES, ProviderError, ProviderErrorKind
from knowledge.providers.fake import FakeEmbeddingProvider
from knowledge.retrieval import EMBEDDING_UNAVAILABLE
from knowledge.tests.factories import FAQ_ROWS, add_document, faq_csv
from knowledge.tests.locks import keyword_worker_timed_out
from knowledge.timeouts import RETRIEVAL_TIMED_OUT
from supportai.models import Tenant
from supportai.tests.factories import api_client


@pytest.mark.django_db(transaction=True)
def test_upload_indexes_good_files_and_reports_bad_ones(tenant):
    # given
    files = [
        SimpleUploadedFile("parking.md", b"# Parking\n\nFree parking behind the studio."),
        SimpleUploadedFile("junk.txt", bytes(range(256))),
    ]
    # when
    response = api_client(tenant).post("/api/v1/knowledge/documents/", {"files": files}, format="multipart")
    # then
    assert response.status_code == 202
    good, bad = response.json()["files"]
    assert good["error"] == "" and good["documents"][0]["outcome"] == "created"
    assert bad["error_code"] == "binary" and bad["documents"] == []
    document = Document.objects.get(pk=good["documents"][0]["id"])
    assert document.status == DocumentStatus.READY and document.chunk_count == 1  # Celery eager, after commit


def test_upload_of_every_kind_of_bad_file_between_good_ones_stores_the_good_ones(
    tenant: Tenant,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    # given a 2 KiB limit and an upload where each bad file sits between good ones
    monkeypatch.setattr(conf, "SETTINGS", dataclasses.replace(conf.SETTINGS, max_upload_bytes=2048))
    bad = {
        "empty.md": (b"", "empty"),
        "blank.txt": (b" \n\t\n", "empty"),
        "junk.txt": (bytes(range(256)) * 4, "binary"),
        "latin.txt": ("Crème brûlée à volonté.".encode("latin-1"), "encoding"),
        "manual.md": (b"# Manual\n\n" + b"Long text. " * 300, "too_large"),
        "photo.png": (b"\x89PNG\r\n", "unsupported"),
    }
    files = [SimpleUploadedFile("first.md", b"# First\n\nFree parking behind the studio.")]
    for n, (name, (data, _)) in enumerate(bad.items()):
        files += [SimpleUploadedFile(name, data), SimpleUploadedFile(f"good{n}.txt", f"Good text {n}.".encode())]
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client(tenant).post("/api/v1/knowledge/documents/", {"files": files}, format="multipart")
    # then each bad file has its own code and a message, and stored nothing
    assert response.status_code == 202
    results = {f["name"]: f for f in response.json()["files"]}
    for name, (_, code) in bad.items():
        assert (results[name]["error_code"], results[name]["documents"]) == (code, []), name
        assert results[name]["error"].strip(), name
    # and every good file, before and after each bad one, was stored and indexed
    good = ["first.md", *(f"good{n}.txt" for n in range(len(bad)))]
    assert all(results[name]["error"] == "" and results[name]["documents"] for name in good)
    stored = Document.objects.for_tenant(tenant)
    assert sorted(stored.values_list("external_id", flat=True)) == sorted(good)
    assert set(stored.values_list("status", flat=True)) == {DocumentStatus.READY}


def test_upload_again_unchanged_queues_no_work_and_changed_replaces_the_chunks(
    tenant: Tenant, django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks
) -> None:
    # given an uploaded, indexed article
    client = api_client(tenant)

    def upload(data: bytes) -> tuple[str, int]:
        with django_capture_on_commit_callbacks(execute=True) as queued:
            response = client.post(
                "/api/v1/knowledge/documents/", {"files": [SimpleUploadedFile("parking.md", data)]}, format="multipart"
            )
        assert response.status_code == 202
        [document] = response.json()["files"][0]["documents"]
        return document["outcome"], len(queued)

    article = b"# Parking\n\nFree parking behind the studio on Pearl Street."
    assert upload(article) == ("created", 1)
    chunks = set(Chunk.objects.filter(tenant=tenant).values_list("pk", flat=True))
    indexed_at = Document.objects.for_tenant(tenant).get().indexed_at
    # when it comes again unchanged, then nothing is queued and nothing rewritten
    assert upload(article) == ("unchanged", 0)
    assert set(Chunk.objects.filter(tenant=tenant).values_list("pk", flat=True)) == chunks
    assert Document.objects.for_tenant(tenant).get().indexed_at == indexed_at
    # when it comes changed, then one task replaces all its chunks with the new text's
    assert upload(b"# Parking\n\nValet parking only, at the front door.") == ("updated", 1)
    new = Chunk.objects.filter(tenant=tenant)
    assert new.exists() and not chunks & set(new.values_list("pk", flat=True))
    assert all("Pearl" not in text for text in new.values_list("text", flat=True))
    assert Document.objects.for_tenant(tenant).get().status == DocumentStatus.READY


def test_an_uploads_documents_show_pending_until_their_indexing_task_has_run(
    tenant: Tenant, other_tenant: Tenant, django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks
) -> None:
    # given an upload of an article and a FAQ of two rows, its indexing task queued and not yet run
    files = [
        SimpleUploadedFile("parking.md", b"# Parking\n\nFree parking behind the studio."),
        SimpleUploadedFile("faq.csv", b"question,answer\nIs there wifi?,Yes.\nDo you sell gift cards?,Yes.\n"),
    ]
    client = api_client(tenant)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = client.post("/api/v1/knowledge/documents/", {"files": files}, format="multipart")
    assert response.status_code == 202 and queued
    ids = sorted(d["id"] for f in response.json()["files"] for d in f["documents"])
    assert len(ids) == 3

    def shown() -> list[tuple[int, str, int]]:
        details = [client.get(f"/api/v1/knowledge/documents/{pk}/").json() for pk in ids]
        return [(d["id"], d["status"], d["chunk_count"]) for d in details]

    # then each shows pending, in its detail and under the list's pending filter, to its tenant only
    assert shown() == [(pk, "pending", 0) for pk in ids]
    pending = client.get("/api/v1/knowledge/documents/", {"status": "pending"}).json()["results"]
    assert sorted(d["id"] for d in pending) == ids
    theirs = api_client(other_tenant).get("/api/v1/knowledge/documents/", {"status": "pending"}).json()
    assert theirs["results"] == []
    assert all(api_client(other_tenant).get(f"/api/v1/knowledge/documents/{pk}/").status_code == 404 for pk in ids)
    # when the task runs
    for task in queued:
        task()
    # then each is ready with its chunks, and none is pending
    assert all(status == "ready" and chunks >= 1 for _, status, chunks in shown())
    assert client.get("/api/v1/knowledge/documents/", {"status": "pending"}).json()["results"] == []


def test_upload_refuses_an_oversized_file_by_its_real_size_and_indexes_the_rest(
    tenant: Tenant,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    # given a 2 KiB limit
    monkeypatch.setattr(conf, "SETTINGS", dataclasses.replace(conf.SETTINGS, max_upload_bytes=2048))
    manual = b"# Manual\n\n" + b"Long text. " * 500
    files = [
        SimpleUploadedFile("manual.md", manual),
        SimpleUploadedFile("parking.md", b"# Parking\n\nFree parking behind the studio."),
    ]
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client(tenant).post("/api/v1/knowledge/documents/", {"files": files}, format="multipart")
    # then
    assert response.status_code == 202
    big, good = response.json()["files"]
    assert (big["name"], big["error_code"], big["documents"]) == ("manual.md", "too_large", [])
    assert big["error"] == f"The file is {len(manual)} bytes (5.4 KB); the limit is 2048 bytes (2.0 KB)."
    assert good["error"] == "" and good["documents"][0]["outcome"] == "created"
    document = Document.objects.for_tenant(tenant).get()
    assert (document.title, document.status) == ("Parking", DocumentStatus.READY)


def test_upload_requires_files_and_authentication(tenant):
    assert APIClient().post("/api/v1/knowledge/documents/", {}, format="multipart").status_code in (401, 403)
    response = api_client(tenant).post("/api/v1/knowledge/documents/", {}, format="multipart")
    assert response.status_code == 400
    assert response.json() == {"files": [NO_FILES]}
    # a body whose parts Django cannot find is the same answer
    garbled = api_client(tenant).post(
        "/api/v1/knowledge/documents/", b"not multipart at all", content_type="multipart/form-data; boundary=xyz"
    )
    assert garbled.json() == {"files": [NO_FILES]}
    assert not Document.objects.exists()


def test_upload_of_files_in_misnamed_or_nameless_parts_alone_says_what_arrived(tenant: Tenant) -> None:
    # given uploads whose only files come under another part name (-F file=@a.md), or as text (-F files=a.md)
    bodies = [
        ({"file": SimpleUploadedFile("a.md", b"# A\n\nx")}, UNEXPECTED_FILE_PARTS, "file"),
        ({"files": "a.md"}, FILES_WITHOUT_NAME, "a.md"),
    ]
    for body, message, part in bodies:
        # when
        response = api_client(tenant).post("/api/v1/knowledge/documents/", body, format="multipart")
        # then each is told which part was wrong, not that no files arrived
        assert response.status_code == 400, body
        assert response.json() == {"files": [message.format(parts=repr(part))]}
    assert not Document.objects.exists()


def test_upload_is_refused_to_an_agent_session(tenant, agent):
    client = APIClient()
    client.force_login(agent)
    files = {"files": [SimpleUploadedFile("a.md", b"# A\n\ntext")]}
    assert client.post("/api/v1/knowledge/documents/", files, format="multipart").status_code == 403


def test_document_detail_is_tenant_scoped(tenant, other_tenant):
    document = add_document(tenant, "Parking", "Free parking.")
    assert api_client(tenant).get(f"/api/v1/knowledge/documents/{document.pk}/").json()["status"] == "ready"
    assert api_client(other_tenant).get(f"/api/v1/knowledge/documents/{document.pk}/").status_code == 404


def test_search_api_returns_passages_of_the_key_tenant_only(tenant, other_tenant):
    add_document(tenant, "Parking", "Free parking behind the studio.")
    add_document(other_tenant, "Their parking", "Valet parking.")
    response = api_client(tenant).post("/api/v1/knowledge/search/", {"query": "parking", "k": 3}, format="json")
    assert response.status_code == 200
    assert [p["title"] for p in response.json()] == ["Parking"]
    assert set(response.json()[0]["ranks"]) == {"bm25", "dense"}
    bad = api_client(tenant).post("/api/v1/knowledge/search/", {"query": "parking", "mode": "magic"}, format="json")
    assert bad.status_code == 400


@pytest.mark.parametrize("mode", ["bm25", "dense", "hybrid"])
def test_search_api_in_every_mode_returns_only_the_key_tenants_passages(
    tenant: Tenant, other_tenant: Tenant, mode: str
) -> None:
    # given: another tenant's passages match the query better than any of the tenant's own
    add_document(tenant, "Parking", "Free parking behind the studio.")
    add_document(tenant, "Hours", "Open daily from nine to seven, parking included.")
    for n in range(3):
        add_document(other_tenant, f"Secret parking {n}", "Parking. Staff parking code 4411, parking.")
    # when each tenant's key searches
    ours = api_client(tenant).post("/api/v1/knowledge/search/", {"query": "parking", "k": 10, "mode": mode})
    theirs = api_client(other_tenant).post("/api/v1/knowledge/search/", {"query": "parking", "k": 10, "mode": mode})
    # then each sees its own passages only
    assert ours.status_code == theirs.status_code == 200
    assert sorted(p["title"] for p in ours.json()) == ["Hours", "Parking"]
    assert "4411" not in ours.content.decode()
    assert sorted(p["title"] for p in theirs.json()) == [f"Secret parking {n}" for n in range(3)]


def test_search_api_answers_503_in_dense_mode_and_hybrid_from_keywords_while_embedding_fails(tenant, monkeypatch):
    def outage(self, text):
        raise ProviderError("connection refused", kind=ProviderErrorKind.UNAVAILABLE)

    monkeypatch.setattr(FakeEmbeddingProvider, "embed_query", outage)
    add_document(tenant, "Parking", "Free parking behind the studio.")
    client = api_client(tenant)

    dense = client.post("/api/v1/knowledge/search/", {"query": "parking", "mode": "dense"}, format="json")
    hybrid = client.post("/api/v1/knowledge/search/", {"query": "parking"}, format="json")

    assert dense.status_code == 503
    assert dense.json() == {
        "detail": EMBEDDING_UNAVAILABLE.format(reason=PUBLIC_MESSAGES[ProviderErrorKind.UNAVAILABLE])
    }
    assert hybrid.status_code == 200
    assert [(p["title"], p["ranks"]) for p in hybrid.json()] == [("Parking", {"bm25": 1})]


@pytest.mark.django_db(transaction=True)
def test_search_api_says_the_search_timed_out_when_hybrid_lost_both_retrievers(tenant, monkeypatch):
    # given an embedding service that is down and keyword search that runs out of time on its worker
    def outage(self, text):
        raise ProviderError("connection refused", kind=ProviderErrorKind.UNAVAILABLE)

    monkeypatch.setattr(FakeEmbeddingProvider, "embed_query", outage)
    add_document(tenant, "Parking", "Free parking behind the studio.")
    client = api_client(tenant)
    # when
    with keyword_worker_timed_out(monkeypatch):
        response = client.post("/api/v1/knowledge/search/", {"query": "parking"}, format="json")
    # then it does not claim that keyword search still works
    assert response.status_code == 503
    assert response.json() == {"detail": RETRIEVAL_TIMED_OUT}


@pytest.mark.parametrize(
    ("escape", "error"),
    [("\\ud800", "Surrogate characters are not allowed: U+D800."), ("\\u0000", "Null characters are not allowed.")],
)
def test_search_api_refuses_json_escapes_that_are_not_text(tenant, escape, error):
    body = '{"query": "' + escape + ' parking", "k": 3}'

    response = api_client(tenant).post("/api/v1/knowledge/search/", body, content_type="application/json")

    assert response.status_code == 400
    assert response.json() == {"query": [error]}


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/v1/knowledge/search/", {"query": "parking", "k": 10**400}, "k"),
        ("/api/v1/knowledge/search/", {"query": "parking", "k": -(10**400)}, "k"),
        (
            "/api/v1/knowledge/sources/",
            {"name": "Docs", "start_url": "https://docs.example", "max_pages": 10**400},
            "max_pages",
        ),
    ],
)
def test_json_integers_too_large_for_a_float_are_refused_not_a_server_error(tenant, path, body, field):
    # when a JSON integer is far beyond any limit (too large even to be a float)
    response = api_client(tenant).post(path, body, format="json")
    # then it is refused on that field, and nothing is made
    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert not KnowledgeSource.objects.filter(tenant=tenant).exists()


@pytest.mark.parametrize(
    ("path", "body", "errors"),
    [
        ("/api/v1/knowledge/search/", {"query": 0}, {"query": ["Not a valid string."]}),
        ("/api/v1/knowledge/search/", {"query": "parking", "k": "3"}, {"k": ["A valid integer is required."]}),
        (
            "/api/v1/knowledge/sources/",
            {"name": "Docs", "start_url": "https://docs.example", "max_depth": "1"},
            {"max_depth": ["A valid integer is required."]},
        ),
        (
            "/api/v1/knowledge/sources/",
            {"name": "Docs", "start_url": "https://docs.example", "sync_now": "yes"},
            {"sync_now": ["Must be a valid boolean."]},
        ),
    ],
)
def test_json_values_of_another_type_than_the_schemas_are_refused(tenant, path, body, errors):
    # when a JSON body carries a value in another type than the schema names (DRF would convert it)
    response = api_client(tenant).post(path, body, format="json")
    # then it is refused, field by field, and nothing is made
    assert response.status_code == 400
    assert response.json() == errors
    assert not KnowledgeSource.objects.filter(tenant=tenant).exists()


@pytest.mark.parametrize(
    ("path", "body", "errors"),
    [
        ("/api/v1/knowledge/search/", {"query": "parking", "mode": ""}, {"mode": ['"" is not a valid choice.']}),
        ("/api/v1/knowledge/search/", {"query": "parking", "k": ""}, {"k": ["A valid integer is required."]}),
        (
            "/api/v1/knowledge/sources/",
            {"name": "Docs", "start_url": "https://docs.example", "sync_now": ""},
            {"sync_now": ["Must be a valid boolean."]},
        ),
    ],
)
@pytest.mark.parametrize("content_type", ["multipart/form-data", "application/x-www-form-urlencoded"])
def test_an_optional_form_field_sent_empty_is_refused_as_in_json(tenant, path, body, errors, content_type):
    # when a form (url-encoded or multipart) sends an optional field empty, which DRF would read as absent
    if content_type == "multipart/form-data":
        response = api_client(tenant).post(path, body, format="multipart")
    else:
        response = api_client(tenant).post(path, urlencode(body), content_type=content_type)
    # then it is a value, refused as the same JSON value is
    assert response.status_code == 400
    assert response.json() == errors == api_client(tenant).post(path, body, format="json").json()
    assert not KnowledgeSource.objects.filter(tenant=tenant).exists()


def test_form_values_are_text_and_still_read_as_numbers(tenant, other_tenant):
    add_document(tenant, "Parking", "Free parking behind the studio.")
    add_document(other_tenant, "Their parking", "Valet parking.")
    response = api_client(tenant).post("/api/v1/knowledge/search/", {"query": "parking", "k": "1"})
    assert response.status_code == 200
    assert [p["title"] for p in response.json()] == ["Parking"]


def test_upload_says_how_many_rows_a_file_no_longer_holds_were_kept_while_another_file_failed(
    tenant: Tenant, django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks
) -> None:
    # given an FAQ of three rows uploaded before
    client = api_client(tenant)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/api/v1/knowledge/documents/", {"files": [SimpleUploadedFile("faq.csv", faq_csv(FAQ_ROWS))]})
    # when it comes back with one row, next to an empty file
    files = [SimpleUploadedFile("faq.csv", faq_csv(FAQ_ROWS[:1])), SimpleUploadedFile("empty.md", b"")]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/knowledge/documents/", {"files": files})
    # then the two rows stay, as the upload had an error, and the answer says so
    faq_result, empty = response.json()["files"]
    assert (faq_result["removed"], faq_result["kept"]) == (0, 2)
    assert (empty["error_code"], empty["removed"], empty["kept"]) == ("empty", 0, 0)
    assert Document.objects.for_tenant(tenant).count() == 3


def test_upload_with_a_part_that_is_not_a_file_named_files_stores_nothing_and_says_so(tenant: Tenant) -> None:
    # given a good file next to one under another part name, a text part named "files" (curl's
    # -F files=b.md without the @), or the language sent as a file
    good = SimpleUploadedFile("a.md", b"# A\n\nFree parking.")
    bodies = [
        ({"files": [good], "file": SimpleUploadedFile("b.md", b"# B\n\nOpen late.")}, UNEXPECTED_FILE_PARTS, "file"),
        ({"files": [good, "b.md"]}, FILES_WITHOUT_NAME, "b.md"),
        ({"files": [good], "language": SimpleUploadedFile("lang.txt", b"de")}, UNEXPECTED_FILE_PARTS, "language"),
    ]
    for body, message, part in bodies:
        good.seek(0)
        # when
        response = api_client(tenant).post("/api/v1/knowledge/documents/", body, format="multipart")
        # then the upload is refused as a whole, naming the part, instead of dropping it silently
        assert response.status_code == 400, body
        assert response.json() == {"files": [message.format(parts=repr(part))]}
    assert not Document.objects.exists()


def test_upload_with_two_languages_stores_nothing_and_says_so(tenant: Tenant) -> None:
    # given one language part too many (de, then fr)
    files = [SimpleUploadedFile("a.md", b"# A\n\nFree parking.")]
    # when
    response = api_client(tenant).post("/api/v1/knowledge/documents/", {"files": files, "language": ["de", "fr"]})
    # then the upload is refused instead of storing the documents under one of them
    assert response.status_code == 400
    assert response.json() == {"language": [LANGUAGES_CONFLICT.format(languages="'de', 'fr'")]}
    assert not Document.objects.exists()


def test_source_api_leaves_out_the_servers_path_of_a_folder_source(tenant: Tenant, tmp_path) -> None:
    # given a folder source of the tenant made by manage.py ingest, and the demo help centre
    (tmp_path / "parking.md").write_text("# Parking\n\nFree parking behind the studio.")
    call_command("ingest", str(tmp_path), "--tenant", tenant.slug, "--source", "Help", "--no-progress")
    sources = [KnowledgeSource.objects.get(tenant=tenant, name="Help"), demo_source(tenant)]
    # when an API client of the tenant reads them
    bodies = [api_client(tenant).get(f"/api/v1/knowledge/sources/{source.pk}/").json() for source in sources]
    # then their settings do not say where they are on the server
    assert [body["config"] for body in bodies] == [{}, {}]
    assert str(tmp_path) not in str(bodies) and "demo_content" not in str(bodies)


def _multipart(*parts: bytes) -> bytes:
    """A multipart body of ``parts`` (each its headers, a blank line and its content), boundary ``B0undary``."""
    return b"".join(b"--B0undary\r\n" + part + b"\r\n" for part in parts) + b"--B0undary--\r\n"


def _file_part(disposition: bytes, content: bytes = b"# B\n\nOpen late.") -> bytes:
    return (
        b"Content-Disposition: form-data; name=files; "
        + disposition
        + b"\r\nContent-Type: text/markdown\r\n\r\n"
        + content
    )


@pytest.mark.parametrize(
    "disposition",
    [
        'filename="M\xe4rz.md"'.encode("latin-1"),  # the header line is not UTF-8
        b"filename*=x-foo''b.md",  # a charset Python does not know
        b'filename=".."',  # no file name left once sanitized
    ],
)
def test_upload_with_a_file_part_django_cannot_read_stores_nothing_and_says_so(
    tenant: Tenant, disposition: bytes
) -> None:
    # given a good file next to one whose part Django's parser would skip
    body = _multipart(_file_part(b'filename="a.md"', b"# A\n\nFree parking."), _file_part(disposition))
    # when
    response = api_client(tenant).post(
        "/api/v1/knowledge/documents/", body, content_type="multipart/form-data; boundary=B0undary"
    )
    # then the upload is refused as a whole instead of storing the good file alone
    assert response.status_code == 400
    assert response.json() == {"files": [UNREADABLE_PART]}
    assert not Document.objects.exists()


def test_upload_of_only_an_unreadable_file_part_says_it_could_not_be_read(tenant: Tenant) -> None:
    body = _multipart(_file_part('filename="M\xe4rz.md"'.encode("latin-1")))
    response = api_client(tenant).post(
        "/api/v1/knowledge/documents/", body, content_type="multipart/form-data; boundary=B0undary"
    )
    assert response.status_code == 400
    assert response.json() == {"files": [UNREADABLE_PART]}


CLOSE = b"--B0undary--\r\n"


@pytest.mark.parametrize(
    "cut",
    [
        lambda body: body.removesuffix(CLOSE),  # the last part whole, then nothing
        lambda body: body.removesuffix(b"\r\n" + CLOSE),  # within the last part's content
        lambda body: body[: body.rindex(b"filename") + 12],  # within the last part's headers
    ],
    ids=["before the closing boundary", "within the content", "within the headers"],
)
def test_upload_of_a_body_cut_before_its_closing_boundary_stores_nothing_and_says_so(
    tenant: Tenant, other_tenant: Tenant, cut: Callable[[bytes], bytes]
) -> None:
    # given two files, the body cut before its end (Django's parser dropped the unfinished last part
    # without a word: the first file was stored alone, 202)
    body = _multipart(_file_part(b'filename="a.md"', b"# A\n\nFree parking."), _file_part(b'filename="b.md"'))
    # when
    response = api_client(tenant).post(
        "/api/v1/knowledge/documents/", cut(body), content_type="multipart/form-data; boundary=B0undary"
    )
    # then
    assert response.status_code == 400
    assert response.json() == {"files": [UNFINISHED_BODY]}
    assert not Document.objects.exists()


def test_upload_of_a_hand_built_body_with_readable_parts_is_stored(tenant: Tenant) -> None:
    # the part count does not refuse a well-formed body: UTF-8 and RFC 2231 names, a language field
    body = _multipart(
        _file_part('filename="März.md"'.encode()),
        _file_part(b"filename*=UTF-8''Apr%C3%A8s.md", b"# C\n\nClosed Sundays."),
        b'Content-Disposition: form-data; name="language"\r\n\r\nde',
    )
    response = api_client(tenant).post(
        "/api/v1/knowledge/documents/", body, content_type="multipart/form-data; boundary=B0undary"
    )
    assert response.status_code == 202, response.json()
    assert [result["name"] for result in response.json()["files"]] == ["März.md", "Après.md"]
    assert set(Document.objects.for_tenant(tenant).values_list("language", flat=True)) == {"de"}


@pytest.mark.parametrize("media_type", ["MULTIPART/FORM-DATA", "Multipart/Form-Data"])
def test_upload_takes_a_multipart_media_type_in_any_case(tenant: Tenant, other_tenant: Tenant, media_type: str) -> None:
    # given a body whose media type is upper case (case-insensitive, RFC 9110 8.3.1); the boundary is not
    body = _multipart(_file_part(b'filename="a.md"', b"# A\n\nFree parking."))
    # when
    response = api_client(tenant).post(
        "/api/v1/knowledge/documents/", body, content_type=f"{media_type}; boundary=B0undary"
    )
    # then it is stored, at this tenant only
    assert response.status_code == 202, response.json()
    assert [result["name"] for result in response.json()["files"]] == ["a.md"]
    assert Document.objects.for_tenant(tenant).count() == 1
    assert not Document.objects.for_tenant(other_tenant).exists()


@pytest.mark.parametrize("charset", ["utf-16", "UTF-16LE", "utf-32"])
def test_upload_declaring_a_charset_multipart_cannot_have_is_refused_as_such(tenant: Tenant, charset: str) -> None:
    # given a well-formed body declared in a charset that is not ASCII-compatible, which its boundary
    # and headers cannot be read in (it was "No files arrived")
    body = _multipart(_file_part(b'filename="a.md"', b"# A\n\nFree parking."))
    # when
    response = api_client(tenant).post(
        "/api/v1/knowledge/documents/", body, content_type=f"multipart/form-data; charset={charset}; boundary=B0undary"
    )
    # then
    assert response.status_code == 400
    assert response.json() == {"files": [UNSUPPORTED_CHARSET.format(charset=charset)]}
    assert not Document.objects.exists()


@pytest.mark.parametrize("charset", ["bz2_codec"])
def test_upload_declaring_a_charset_that_is_no_text_encoding_is_refused(tenant: Tenant, charset: str) -> None:
    body = _multipart(_file_part(b'filename="a.md"', b"# A\n\nFree parking."))
    response = api_client(tenant).post(
        "/api/v1/knowledge/documents/", body, content_type=f"multipart/form-data; charset={charset}; boundary=B0undary"
    )
    assert response.status_code == 400
    assert response.json() == {"detail": f'Unsupported charset "{charset}" in request Content-Type header.'}
    assert not Document.objects.exists()
