"""Deleting one knowledge document from the console: asked first, owners and admins only, own tenant only."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils.html import escape

from knowledge.console_views import PAGE_SIZE
from knowledge.models import Chunk, CorpusStats, Document, DocumentStatus
from knowledge.source_config import url_source_create
from knowledge.tests.factories import add_document
from supportai.bidi import isolate
from supportai.models import Tenant
from supportai.tests.factories import api_client

DOCUMENTS_PAGE = "/console/knowledge/"


def _delete(document: Document) -> str:
    return f"/console/knowledge/documents/{document.pk}/delete/"


def _text(content: bytes) -> str:
    """A page's text with its whitespace collapsed."""
    return " ".join(content.decode().split())


def test_owner_is_asked_first_then_the_document_and_its_chunks_go(client: Client, owner: User, tenant: Tenant) -> None:
    # given
    parking = add_document(tenant, "Parking", "Free parking behind the studio.")
    hours = add_document(tenant, "Hours", "Open nine to seven.")
    client.force_login(owner)
    # when the owner opens the delete page from the documents table
    assert f'href="{_delete(parking)}"' in client.get(DOCUMENTS_PAGE).content.decode()
    page = _text(client.get(_delete(parking)).content)
    # then it says what goes and how to bring it back, and deletes nothing yet
    assert "removes the document and its 1 chunk from" in page and "Upload the file again" in page
    assert Document.objects.filter(pk=parking.pk).exists()
    # when they confirm
    response = client.post(_delete(parking), follow=True)
    # then
    assert f"Deleted {isolate('Parking')}." in response.content.decode()
    assert list(Document.objects.for_tenant(tenant).values_list("pk", flat=True)) == [hours.pk]
    assert set(Chunk.objects.filter(tenant=tenant).values_list("document_id", flat=True)) == {hours.pk}
    assert CorpusStats.objects.get(tenant=tenant).chunk_count == 1


def test_a_website_page_says_its_next_sync_reads_it_again(client: Client, owner: User, tenant: Tenant) -> None:
    # given
    website = url_source_create(
        tenant=tenant, name="Help site", config={"start_url": "https://help.example.com/"}, sync_now=False
    )
    page = add_document(tenant, "Parking", "Free parking.", source=website)
    client.force_login(owner)
    # when
    text = _text(client.get(_delete(page)).content)
    # then
    assert "It is a page of the website source <bdi>Help site</bdi>: its next sync reads the page again" in text


def test_the_delete_page_of_a_question_asks_one_question(client: Client, owner: User, tenant: Tenant) -> None:
    # given an FAQ entry, titled by its question
    faq = add_document(tenant, "What is community spread?", "Infections whose source is unknown.")
    client.force_login(owner)
    # when its delete page is opened
    heading = _text(client.get(_delete(faq)).content).split("<h1>")[1].split("</h1>")[0]
    # then the title is quoted, the page's own question after it
    assert heading == "Delete “<bdi>What is community spread?</bdi>”?"


def test_a_document_deleted_from_a_filtered_page_leads_back_to_that_page(
    client: Client, owner: User, tenant: Tenant, other_tenant: Tenant
) -> None:
    # given a page of ready articles and, on the second page by title, one more
    source = add_document(tenant, "Article 00", "Text 0.").source
    Document.objects.bulk_create(
        Document(
            tenant=tenant,
            source=source,
            external_id=f"a{n:02d}",
            title=f"Article {n:02d}",
            content_hash=str(n),
            status=DocumentStatus.READY,
        )
        for n in range(1, PAGE_SIZE)
    )
    zoo = add_document(tenant, "Zoo parking", "Behind the zoo.")
    add_document(other_tenant, "Their parking", "Secret.")
    client.force_login(owner)
    listed = "status=ready&page=2"
    # when the owner opens the delete page from the second page of the ready documents
    listing = client.get(f"{DOCUMENTS_PAGE}?{listed}").content.decode()
    assert f'href="{_delete(zoo)}?{escape(listed)}"' in listing
    page = client.get(f"{_delete(zoo)}?{listed}").content.decode()
    # then its way back (Cancel, and the link to the list) is to that page
    assert page.count(f'href="{DOCUMENTS_PAGE}?{escape(listed)}"') == 2
    # when they confirm, then they are back there, told it went
    response = client.post(f"{_delete(zoo)}?{listed}")
    assert response.status_code == 302 and response["Location"] == f"{DOCUMENTS_PAGE}?{listed}"
    back = client.get(response["Location"]).content.decode()
    assert f"Deleted {isolate('Zoo parking')}." in back and "Their parking" not in back
    assert not Document.objects.filter(pk=zoo.pk).exists()


def test_the_way_back_after_a_delete_stays_on_the_documents_page(client: Client, owner: User, tenant: Tenant) -> None:
    # given a delete link whose list parameters name another site, and parameters the list does not take
    parking = add_document(tenant, "Parking", "Free parking.")
    client.force_login(owner)
    # when
    response = client.post(f"{_delete(parking)}?page=//evil.example/&next=https://evil.example/")
    # then the way back is the documents page, the parameter only a value in its query
    assert response.status_code == 302 and response["Location"] == f"{DOCUMENTS_PAGE}?page=%2F%2Fevil.example%2F"
    assert client.get(response["Location"]).status_code == 200


def test_an_agent_sees_no_delete_and_cannot_delete(client: Client, agent: User, tenant: Tenant) -> None:
    # given
    parking = add_document(tenant, "Parking", "Free parking.")
    client.force_login(agent)
    # when
    listing = client.get(DOCUMENTS_PAGE).content.decode()
    # then
    assert "Parking" in listing and _delete(parking) not in listing
    assert client.get(_delete(parking)).status_code == 403
    assert client.post(_delete(parking)).status_code == 403
    assert Document.objects.filter(pk=parking.pk).exists()


def test_another_tenants_owner_cannot_see_or_delete_the_document(
    client: Client, outsider: User, tenant: Tenant
) -> None:
    # given
    parking = add_document(tenant, "Parking", "Free parking.")
    client.force_login(outsider)
    # when / then
    assert client.get(_delete(parking)).status_code == 404
    assert client.post(_delete(parking)).status_code == 404
    assert Document.objects.filter(pk=parking.pk).exists()
    assert CorpusStats.objects.get(tenant=tenant).chunk_count == 1


def test_delete_answers_only_get_and_post(client: Client, owner: User, tenant: Tenant) -> None:
    parking = add_document(tenant, "Parking", "Free parking.")
    client.force_login(owner)
    assert client.put(_delete(parking)).status_code == 405
    assert Document.objects.filter(pk=parking.pk).exists()


@pytest.mark.parametrize("listing", ["console", "api"])
def test_document_lists_do_not_read_the_documents_text(
    client: Client, owner: User, tenant: Tenant, listing: str
) -> None:
    # given a manual whose text (up to KNOWLEDGE_MAX_UPLOAD_BYTES of it) neither list shows
    add_document(tenant, "Manual", "Free parking behind the studio. " * 2000)
    client.force_login(owner)
    get = client.get if listing == "console" else api_client(tenant).get
    # when
    with CaptureQueriesContext(connection) as queries:
        response = get(DOCUMENTS_PAGE if listing == "console" else "/api/v1/knowledge/documents/")
    # then the documents are listed, and no query read their text
    assert response.status_code == 200 and "Manual" in response.content.decode()
    assert not [query["sql"] for query in queries if '"knowledge_document"."content"' in query["sql"]]
