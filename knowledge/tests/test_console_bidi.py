"""Names from tenant data (document titles, file names, source names) with Unicode bidi controls
stay inside their own run of text in the console: ``<bdi>`` in markup, FIRST STRONG ISOLATE ...
POP DIRECTIONAL ISOLATE in plain text (messages, ``<title>``), so a RIGHT-TO-LEFT
OVERRIDE in a title cannot reverse the words around it."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from knowledge.models import Document, KnowledgeSource
from knowledge.source_config import url_source_create
from knowledge.tests.factories import add_document
from supportai.bidi import FSI, PDI
from supportai.models import Tenant

RLO = "\u202e"  # RIGHT-TO-LEFT OVERRIDE: everything after it, to the end of its paragraph, reads backwards
TITLE = f"Invoice {RLO}fdp.exe"
SOURCE = f"Help {RLO}site"


def _isolated(text: str) -> str:
    return f"{FSI}{text}{PDI}"


def _named_page(tenant: Tenant) -> tuple[KnowledgeSource, Document]:
    """A website source named ``SOURCE`` and one of its pages titled ``TITLE``."""
    website = url_source_create(
        tenant=tenant, name=SOURCE, config={"start_url": "https://help.example.com/"}, sync_now=False
    )
    return website, add_document(tenant, TITLE, "Pay within 30 days.", source=website)


def test_an_uploaded_files_name_and_title_are_isolated_in_its_message(
    client: Client, owner: User, tenant: Tenant
) -> None:
    # given a file whose heading holds a right-to-left override
    client.force_login(owner)
    upload = SimpleUploadedFile("notes.md", f"# {TITLE}\n\nPay within 30 days.".encode())
    # when it is uploaded
    response = client.post("/console/knowledge/", {"upload": [upload]}, follow=True)
    # then the message isolates each name, so the words after them read as written
    assert Document.objects.for_tenant(tenant).get().title == TITLE
    [message] = [str(m) for m in response.context["messages"]]
    assert message == f"{_isolated('notes.md')}: {_isolated(TITLE)}: created"


def test_the_delete_pages_isolate_the_documents_title_and_the_sources_name(
    client: Client, owner: User, tenant: Tenant
) -> None:
    # given a website source and one of its pages, both named with a right-to-left override
    website, document = _named_page(tenant)
    client.force_login(owner)
    # when the document's delete page is opened
    page = client.get(f"/console/knowledge/documents/{document.pk}/delete/").content.decode()
    # then the heading, the button, the sentence naming the source and the window title isolate the names
    assert f"<h1>Delete “<bdi>{TITLE}</bdi>”?</h1>" in page
    assert f"Delete <bdi>{TITLE}</bdi></button>" in page
    assert f"the website source <bdi>{SOURCE}</bdi>: its next sync" in page
    assert f"<title>Delete {_isolated(TITLE)} · SupportAI</title>" in page
    # when the source's delete page and its settings are opened
    source_page = client.get(f"/console/knowledge/sources/{website.pk}/delete/").content.decode()
    settings_page = client.get(f"/console/knowledge/sources/{website.pk}/edit/").content.decode()
    # then
    assert f"<h1>Delete “<bdi>{SOURCE}</bdi>”?</h1>" in source_page
    assert f"<title>Delete {_isolated(SOURCE)} · SupportAI</title>" in source_page
    assert f"<h1><bdi>{SOURCE}</bdi>: settings</h1>" in settings_page
    assert f"<title>{_isolated(SOURCE)} settings · SupportAI</title>" in settings_page
    # and the messages after deleting isolate them too
    deleted = client.post(f"/console/knowledge/documents/{document.pk}/delete/", follow=True)
    assert [str(m) for m in deleted.context["messages"]] == [f"Deleted {_isolated(TITLE)}."]
    removed = client.post(f"/console/knowledge/sources/{website.pk}/delete/", follow=True)
    assert [str(m) for m in removed.context["messages"]] == [f"Deleted {_isolated(SOURCE)} and its 0 documents."]


def test_the_document_page_isolates_its_title_and_its_sources_name(client: Client, owner: User, tenant: Tenant) -> None:
    # given a page of a website source, both named with a right-to-left override
    _, document = _named_page(tenant)
    client.force_login(owner)
    # when its page is opened
    page = client.get(f"/console/knowledge/documents/{document.pk}/").content.decode()
    # then the heading, the source's link and the window title isolate the names
    assert f"<h1><bdi>{TITLE}</bdi></h1>" in page
    assert f"<bdi>{SOURCE}</bdi></a>" in page
    assert f"<title>{_isolated(TITLE)} · SupportAI</title>" in page


def test_a_title_and_a_chunk_preview_followed_by_our_words_are_isolated(
    client: Client, owner: User, tenant: Tenant
) -> None:
    # given a web page whose title holds a right-to-left override, and whose long text opens with one
    text = f"{RLO}Refunds " + "are paid within thirty days of the return. " * 20
    document = add_document(tenant, TITLE, text, url="https://help.example.com/refunds")
    client.force_login(owner)
    # when the document list and the document's page are opened
    listing = client.get("/console/knowledge/").content.decode()
    page = client.get(f"/console/knowledge/documents/{document.pk}/").content.decode()
    # then the list's title, before its ↗, is isolated
    assert f'<a href="/console/knowledge/documents/{document.pk}/"><bdi>{TITLE}</bdi></a> <a href' in listing
    # and the long chunk's preview cannot reverse the "(N characters)" after it
    assert f'<span class="preview"><bdi>{RLO}Refunds are paid' in page
