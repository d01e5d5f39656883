"""The knowledge admin cannot change what a document is indexed from (that needs the indexing services)."""

from __future__ import annotations

import dataclasses
import threading
from datetime import timedelta
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection
from django.test import Client, RequestFactory
from django.utils import timezone

from knowledge.admin import CONFIG_NOT_AN_OBJECT
from knowledge.models import Chunk, Document, DocumentStatus, KnowledgeSource, SourceKind, SourceStatus
from knowledge.source_config import (
    API_UPLOAD_SOURCE,
    BAD_NUMBER,
    CREDENTIALS_IN_URL,
    NAME_RESERVED,
    NAME_TAKEN,
    ONE_ENTRY_URL,
    PRIVATE_URL,
    SYNC_LEASE,
    UPLOAD_SOURCE,
)
from knowledge.sources import DELETE_WHILE_SYNCING
from knowledge.tests.factories import add_document
from supportai.models import Role, Tenant
from supportai.tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def root() -> User:
    user: User = UserFactory.create(username="root", is_staff=True, is_superuser=True)
    return user


def _client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _change_url(document: Document) -> str:
    return f"/admin/knowledge/document/{document.pk}/change/"


def test_document_change_page_shows_the_indexed_fields_read_only(root: User, tenant: Tenant) -> None:
    document = add_document(tenant, "Parking", "Free parking behind the studio.")
    response = _client_for(root).get(_change_url(document))
    assert response.status_code == 200
    assert "Free parking behind the studio." in response.text
    form_fields = set(response.context["adminform"].form.fields)
    assert {"tenant", "source", "external_id", "title", "content"}.isdisjoint(form_fields)
    assert {"url", "language"} <= form_fields


def test_posting_new_content_changes_the_address_but_not_the_indexed_text(root: User, tenant: Tenant) -> None:
    # given an indexed document
    document = add_document(tenant, "Parking", "Free parking behind the studio.")
    chunks = list(Chunk.objects.filter(document=document).values_list("text", flat=True))
    # when the admin form is posted with a new title and content along with a new address
    response = _client_for(root).post(
        _change_url(document),
        {
            "title": "Hijacked",
            "content": "Parking now costs 50 euros.",
            "url": "https://alpha.example.com/parking",
            "language": "en",
            "http_etag": "",
            "http_last_modified": "",
            "fetched_at_0": "",
            "fetched_at_1": "",
            "links": "[]",
        },
    )
    # then the address is saved; title, content and chunks are as the indexer left them
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    document.refresh_from_db()
    assert document.url == "https://alpha.example.com/parking"
    assert (document.title, document.content) == ("Parking", "Free parking behind the studio.")
    assert document.status == DocumentStatus.READY
    assert list(Chunk.objects.filter(document=document).values_list("text", flat=True)) == chunks


def test_documents_cannot_be_added_in_the_admin(root: User, tenant: Tenant) -> None:
    response = _client_for(root).get("/admin/knowledge/document/add/")
    assert response.status_code == 403


def test_reindex_action_indexes_the_selected_documents_of_the_users_tenant(
    owner: User, tenant: Tenant, other_tenant: Tenant, django_capture_on_commit_callbacks: Any
) -> None:
    # given a failed document of each tenant
    mine = add_document(tenant, "Parking", "Free parking behind the studio.")
    theirs = add_document(other_tenant, "Valet", "Valet parking only.")
    Document.objects.filter(pk__in=[mine.pk, theirs.pk]).update(status=DocumentStatus.FAILED, error="timed out")
    # when the owner runs the action on both (Celery runs eagerly here, after the request's commit)
    with django_capture_on_commit_callbacks(execute=True):
        response = _client_for(owner).post(
            "/admin/knowledge/document/",
            {"action": "reindex", "_selected_action": [mine.pk, theirs.pk]},
            follow=True,
        )
    # then only their own document is indexed again
    assert "Re-indexing 1 documents in the background" in response.text
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert (mine.status, mine.error) == (DocumentStatus.READY, "")
    assert (theirs.status, theirs.error) == (DocumentStatus.FAILED, "timed out")


def test_reindex_action_queues_the_work_instead_of_embedding_in_the_request(
    owner: User, tenant: Tenant, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    from knowledge import tasks

    # given two indexed documents and a Celery queue that only records
    parking = add_document(tenant, "Parking", "Free parking behind the studio.")
    gifts = add_document(tenant, "Gift cards", "Gift cards never expire.")
    chunks = set(Chunk.objects.filter(tenant=tenant).values_list("pk", flat=True))
    queued: list[tuple[int, list[int]]] = []
    monkeypatch.setattr(tasks.reindex_documents, "delay", lambda *args: queued.append(args))
    # when the owner re-indexes both
    with django_capture_on_commit_callbacks(execute=True):
        response = _client_for(owner).post(
            "/admin/knowledge/document/", {"action": "reindex", "_selected_action": [gifts.pk, parking.pk]}, follow=True
        )
    # then one task is queued for the tenant, both show pending, and the old chunks still serve
    assert "Re-indexing 2 documents in the background" in response.text
    assert queued == [(tenant.pk, sorted([parking.pk, gifts.pk]))]
    assert set(Document.objects.filter(tenant=tenant).values_list("status", flat=True)) == {DocumentStatus.PENDING}
    assert set(Chunk.objects.filter(tenant=tenant).values_list("pk", flat=True)) == chunks


def test_admin_keeps_website_sources_off_the_upload_source_names_and_kinds_fixed(root: User, tenant: Tenant) -> None:
    client = _client_for(root)
    fields = {"tenant": tenant.pk, "kind": SourceKind.URL, "config": '{"start_url": "https://help.example.com/"}'}
    # when a website source is added under the console's upload source name, then it is refused
    response = client.post("/admin/knowledge/knowledgesource/add/", {**fields, "name": UPLOAD_SOURCE})
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"name": [NAME_RESERVED.format(name=UPLOAD_SOURCE)]}
    assert not KnowledgeSource.objects.exists()
    # when an upload source of that name is changed, then its kind cannot be
    uploads = KnowledgeSource.objects.create(tenant=tenant, name=UPLOAD_SOURCE, kind=SourceKind.UPLOAD)
    change = client.post(
        f"/admin/knowledge/knowledgesource/{uploads.pk}/change/", {**fields, "name": UPLOAD_SOURCE, "config": "{}"}
    )
    assert change.status_code == 302
    uploads.refresh_from_db()
    assert uploads.kind == SourceKind.UPLOAD


def test_renaming_a_source_to_a_name_its_tenant_uses_is_a_form_error(
    root: User, tenant: Tenant, other_tenant: Tenant
) -> None:
    # given two sources of the tenant, and one of another tenant
    manuals = KnowledgeSource.objects.create(tenant=tenant, name="Manuals", kind=SourceKind.UPLOAD)
    KnowledgeSource.objects.create(tenant=tenant, name="Help centre", kind=SourceKind.UPLOAD)
    KnowledgeSource.objects.create(tenant=other_tenant, name="Their guides", kind=SourceKind.UPLOAD)
    client = _client_for(root)
    url = f"/admin/knowledge/knowledgesource/{manuals.pk}/change/"
    # when it is renamed to its tenant's other source's name (the tenant is read-only on this form)
    response = client.post(url, {"name": "Help centre", "config": "{}"})
    # then the form says so instead of the unique constraint failing the request
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"name": [NAME_TAKEN.format(name="Help centre")]}
    manuals.refresh_from_db()
    assert manuals.name == "Manuals"
    # and another tenant's source name is free to take
    assert client.post(url, {"name": "Their guides", "config": "{}"}).status_code == 302
    manuals.refresh_from_db()
    assert manuals.name == "Their guides"


ADD_SOURCE = "/admin/knowledge/knowledgesource/add/"


@pytest.mark.parametrize(
    ("config", "errors"),
    [
        (
            '{"start_url": "http://127.0.0.1/help/"}',
            {"config": [PRIVATE_URL.format(key="start_url", host="127.0.0.1")]},
        ),
        (
            '{"start_url": "https://editor:s3cret@help.example.com/"}',
            {"config": [CREDENTIALS_IN_URL.format(key="start_url")]},
        ),
        ("{}", {"config": [ONE_ENTRY_URL]}),
        ('["https://help.example.com/"]', {"config": [CONFIG_NOT_AN_OBJECT]}),
        (
            '{"start_url": "https://help.example.com/", "max_pages": 0}',
            {"config": [BAD_NUMBER.format(key="max_pages", minimum=1, maximum=1000, value=0)]},
        ),
    ],
)
def test_adding_a_website_source_in_the_admin_applies_the_services_checks(
    root: User, tenant: Tenant, config: str, errors: dict[str, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    from knowledge import conf

    monkeypatch.setattr(conf, "SETTINGS", dataclasses.replace(conf.SETTINGS, crawl_max_pages=1000))
    # when a website source is added with settings the console and the API refuse
    response = _client_for(root).post(
        ADD_SOURCE, {"tenant": tenant.pk, "name": "Help centre", "kind": SourceKind.URL, "config": config}
    )
    # then the form says why, and nothing is saved
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == errors
    assert not KnowledgeSource.objects.exists()


def test_a_website_source_added_in_the_admin_is_stored_as_the_services_store_it(root: User, tenant: Tenant) -> None:
    # when a website source is added with an address to normalise and a key no source reads
    response = _client_for(root).post(
        ADD_SOURCE,
        {
            "tenant": tenant.pk,
            "name": "Help centre",
            "kind": SourceKind.URL,
            "config": '{"start_url": "https://Help.Example.com/faq#top", "colour": "red", "max_depth": 1}',
        },
    )
    # then it is saved with the settings as the console would have stored them
    assert response.status_code == 302
    source = KnowledgeSource.objects.get(tenant=tenant)
    assert source.config["start_url"] == "https://help.example.com/faq"
    assert source.config["max_depth"] == 1 and "colour" not in source.config


def test_editing_a_website_source_in_the_admin_to_a_private_address_is_refused(root: User, tenant: Tenant) -> None:
    # given a website source
    source = KnowledgeSource.objects.create(
        tenant=tenant, name="Help centre", kind=SourceKind.URL, config={"start_url": "https://alpha.example.com/"}
    )
    # when its settings are changed to an address on the server's own network
    response = _client_for(root).post(
        f"/admin/knowledge/knowledgesource/{source.pk}/change/",
        {"name": "Help centre", "config": '{"sitemap_url": "http://10.0.0.5/sitemap.xml"}'},
    )
    # then the form says so and the source keeps its settings
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "config": [PRIVATE_URL.format(key="sitemap_url", host="10.0.0.5")]
    }
    source.refresh_from_db()
    assert source.config == {"start_url": "https://alpha.example.com/"}


def test_a_website_source_cannot_be_renamed_to_an_upload_source_name_in_the_admin(root: User, tenant: Tenant) -> None:
    source = KnowledgeSource.objects.create(
        tenant=tenant, name="Help centre", kind=SourceKind.URL, config={"start_url": "https://alpha.example.com/"}
    )
    response = _client_for(root).post(
        f"/admin/knowledge/knowledgesource/{source.pk}/change/",
        {"name": UPLOAD_SOURCE, "config": '{"start_url": "https://alpha.example.com/"}'},
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"name": [NAME_RESERVED.format(name=UPLOAD_SOURCE)]}
    source.refresh_from_db()
    assert source.name == "Help centre"


@pytest.mark.parametrize("name", [UPLOAD_SOURCE, API_UPLOAD_SOURCE])
def test_no_source_but_an_upload_source_takes_an_upload_source_name_in_the_admin(
    root: User, tenant: Tenant, name: str
) -> None:
    client = _client_for(root)
    # when a connector source is added under an upload source's name
    fields = {"tenant": tenant.pk, "kind": SourceKind.CONNECTOR, "config": "{}"}
    added = client.post("/admin/knowledge/knowledgesource/add/", {**fields, "name": name})
    # then it is refused on the name, and no source is made (uploads would find it in their way)
    assert added.status_code == 200
    assert added.context["adminform"].form.errors == {"name": [NAME_RESERVED.format(name=name)]}
    assert not KnowledgeSource.objects.exists()
    # when a connector source is renamed to it, then it keeps its name
    connector = KnowledgeSource.objects.create(tenant=tenant, name="CRM", kind=SourceKind.CONNECTOR)
    renamed = client.post(f"/admin/knowledge/knowledgesource/{connector.pk}/change/", {"name": name, "config": "{}"})
    assert renamed.status_code == 200
    assert renamed.context["adminform"].form.errors == {"name": [NAME_RESERVED.format(name=name)]}
    connector.refresh_from_db()
    assert connector.name == "CRM"
    # while the upload source itself is added under it
    uploads = client.post("/admin/knowledge/knowledgesource/add/", {**fields, "kind": SourceKind.UPLOAD, "name": name})
    assert uploads.status_code == 302
    assert KnowledgeSource.objects.get(name=name).kind == SourceKind.UPLOAD


def test_a_sources_last_sync_summary_is_read_only_in_the_admin(root: User, tenant: Tenant) -> None:
    # given a website source with the summary of its last sync
    source = KnowledgeSource.objects.create(
        tenant=tenant,
        name="Help centre",
        kind=SourceKind.URL,
        config={"start_url": "https://alpha.example.com/"},
        last_sync_summary="12 pages read, 3 created",
    )
    url = f"/admin/knowledge/knowledgesource/{source.pk}/change/"
    client = _client_for(root)
    # when its change page is shown, then posted with another summary
    page = client.get(url)
    posted = client.post(
        url,
        {
            "name": "Help centre",
            "config": '{"start_url": "https://alpha.example.com/"}',
            "last_sync_summary": "nothing happened",
        },
    )
    # then the summary shows but is no input, and stays as the sync wrote it
    assert page.status_code == 200 and "12 pages read, 3 created" in page.text
    assert "last_sync_summary" not in page.context["adminform"].form.fields
    assert "last_sync_summary" in page.context["adminform"].readonly_fields
    assert posted.status_code == 302
    source.refresh_from_db()
    assert source.last_sync_summary == "12 pages read, 3 created"


def test_saving_a_source_in_the_admin_keeps_the_claim_of_a_sync_that_started_meanwhile(
    root: User, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given an idle website source, which a sync claims just after the admin has read it for saving
    source = KnowledgeSource.objects.create(
        tenant=tenant, name="Help centre", kind=SourceKind.URL, config={"start_url": "https://alpha.example.com/"}
    )
    claimed_at = timezone.now()
    model_admin = admin.site._registry[KnowledgeSource]
    read = model_admin.get_object

    def read_then_claimed(*args: Any, **kwargs: Any) -> Any:
        obj = read(*args, **kwargs)
        KnowledgeSource.objects.filter(pk=source.pk).update(
            status=SourceStatus.SYNCING, sync_started_at=claimed_at, error="2 pages failed"
        )
        return obj

    monkeypatch.setattr(model_admin, "get_object", read_then_claimed)
    # when the staff member renames it
    response = _client_for(root).post(
        f"/admin/knowledge/knowledgesource/{source.pk}/change/",
        {"name": "Help", "config": '{"start_url": "https://alpha.example.com/"}'},
    )
    # then the new name is saved and the sync keeps its claim
    assert response.status_code == 302
    source.refresh_from_db()
    assert source.name == "Help"
    assert (source.status, source.sync_started_at, source.error) == (
        SourceStatus.SYNCING,
        claimed_at,
        "2 pages failed",
    )


def _syncing_source(tenant: Tenant) -> KnowledgeSource:
    """A website source a sync is running on (claimed a minute ago), with one page stored."""
    source = KnowledgeSource.objects.create(
        tenant=tenant,
        name="Help centre",
        kind=SourceKind.URL,
        config={"start_url": "https://alpha.example.com/help/"},
        status=SourceStatus.SYNCING,
        sync_started_at=timezone.now() - timedelta(minutes=1),
    )
    add_document(tenant, "Parking", "Free parking.", source=source)
    return source


def test_a_source_being_synced_cannot_be_deleted_in_the_admin(root: User, tenant: Tenant) -> None:
    # given a source a sync is running on
    source = _syncing_source(tenant)
    client = _client_for(root)
    # when the admin's delete page is opened and posted
    page = client.get(f"/admin/knowledge/knowledgesource/{source.pk}/delete/")
    posted = client.post(f"/admin/knowledge/knowledgesource/{source.pk}/delete/", {"post": "yes"})
    # then both are refused and nothing is gone
    assert page.status_code == posted.status_code == 403
    assert KnowledgeSource.objects.filter(pk=source.pk).exists() and Document.objects.filter(source=source).exists()


def test_a_source_whose_sync_died_can_be_deleted_in_the_admin(root: User, tenant: Tenant) -> None:
    # given a claim older than the sync lease (its worker is presumed dead)
    source = _syncing_source(tenant)
    KnowledgeSource.objects.filter(pk=source.pk).update(sync_started_at=timezone.now() - SYNC_LEASE - timedelta(1))
    # when
    response = _client_for(root).post(f"/admin/knowledge/knowledgesource/{source.pk}/delete/", {"post": "yes"})
    # then
    assert response.status_code == 302 and not KnowledgeSource.objects.filter(pk=source.pk).exists()
    assert not Document.objects.filter(tenant=tenant).exists()


def test_an_admin_bulk_delete_keeps_a_source_a_sync_claimed_meanwhile(root: User, tenant: Tenant) -> None:
    # given an idle source, and one a sync claimed after the confirmation page was shown
    idle = KnowledgeSource.objects.create(tenant=tenant, name="Other", kind=SourceKind.UPLOAD)
    add_document(tenant, "Hours", "Open daily.", source=idle)
    claimed = _syncing_source(tenant)
    request = RequestFactory().post("/admin/knowledge/knowledgesource/")
    request.user = root
    request.session = SessionStore()
    request._messages = FallbackStorage(request)  # type: ignore[attr-defined]
    # when the delete goes through the admin's queryset delete
    model_admin = admin.site._registry[KnowledgeSource]
    model_admin.delete_queryset(request, KnowledgeSource.objects.filter(pk__in=[idle.pk, claimed.pk]))
    # then the idle source is gone, the claimed one kept with its page, and the staff member told why
    assert list(KnowledgeSource.objects.values_list("name", flat=True)) == ["Help centre"]
    assert Document.objects.filter(source=claimed).count() == 1
    [message] = [str(m) for m in request._messages]  # type: ignore[attr-defined]
    assert message == f"Help centre: {DELETE_WHILE_SYNCING}"


def test_another_tenants_source_cannot_be_deleted_in_the_admin(outsider: User, tenant: Tenant) -> None:
    # given an idle source of the tenant, and the owner of another tenant
    source = KnowledgeSource.objects.create(tenant=tenant, name="Help centre", kind=SourceKind.UPLOAD)
    add_document(tenant, "Parking", "Free parking.", source=source)
    client = _client_for(outsider)
    # when that owner opens and posts the source's delete page
    page = client.get(f"/admin/knowledge/knowledgesource/{source.pk}/delete/")
    posted = client.post(f"/admin/knowledge/knowledgesource/{source.pk}/delete/", {"post": "yes"})
    # then the source is not theirs to see, and stays with its documents
    assert page.status_code in {302, 403, 404} and posted.status_code in {302, 403, 404}
    assert KnowledgeSource.objects.filter(pk=source.pk).exists() and Document.objects.filter(source=source).exists()


def test_chunks_cannot_be_deleted_or_edited_in_the_admin(owner: User, tenant: Tenant) -> None:
    # given an indexed document; chunks leave only with their document (through the services that
    # keep BM25 statistics and postings in step)
    from knowledge.models import CorpusStats, Posting

    add_document(tenant, "Parking", "Free parking behind the studio.")
    child = Chunk.objects.get(tenant=tenant, level="child")
    client = _client_for(owner)
    # when the owner posts the chunk's change form with another length, its delete page and the bulk delete
    changed = client.post(
        f"/admin/knowledge/chunk/{child.pk}/change/",
        {"tenant": tenant.pk, "embedding_model": "x", "embedded_text_sha256": "", "term_count": 0},
    )
    deleted = client.post(f"/admin/knowledge/chunk/{child.pk}/delete/", {"post": "yes"})
    client.post("/admin/knowledge/chunk/", {"action": "delete_selected", "_selected_action": [child.pk], "post": "yes"})
    # then each is refused, and the chunk, its postings and the statistics stay as indexed
    assert (changed.status_code, deleted.status_code) == (403, 403)
    assert Chunk.objects.get(pk=child.pk).term_count == child.term_count
    assert CorpusStats.objects.get(tenant=tenant).chunk_count == 1
    assert Posting.objects.filter(chunk_id=child.pk).exists()


def test_another_tenants_chunks_are_not_listed_found_or_opened_in_the_admin(
    outsider: User, tenant: Tenant, other_tenant: Tenant
) -> None:
    # given a chunk of each tenant, both holding "parking", and the owner of the other tenant
    add_document(tenant, "Alpha staff parking", "Staff park in bay 7 behind the clinic.")
    add_document(other_tenant, "Bravo valet parking", "Valet parking at the spa entrance.")
    ours = Chunk.objects.get(tenant=tenant, level="child")
    theirs = Chunk.objects.get(tenant=other_tenant, level="child")
    client = _client_for(outsider)
    # when that owner lists the chunks, searches their text and opens the tenant's chunk
    listed = client.get("/admin/knowledge/chunk/")
    searched = client.get("/admin/knowledge/chunk/", {"q": "parking"})
    opened = client.get(f"/admin/knowledge/chunk/{ours.pk}/change/")
    # then only their own chunk is listed or found, and the tenant's is not theirs to open
    for response in (listed, searched):
        assert response.status_code == 200
        listed_chunks = list(response.context["cl"].result_list)
        assert theirs in listed_chunks and {chunk.tenant_id for chunk in listed_chunks} == {other_tenant.pk}
        assert "Bravo valet parking" in response.text and "Alpha staff parking" not in response.text
    assert opened.status_code in {302, 404} and "bay 7" not in opened.text


def test_a_source_cannot_be_moved_to_another_tenant_in_the_admin(
    root: User, tenant: Tenant, other_tenant: Tenant
) -> None:
    from knowledge.models import CorpusStats

    # given an upload source of the tenant with an indexed document
    source = KnowledgeSource.objects.create(tenant=tenant, name="Help centre", kind=SourceKind.UPLOAD)
    add_document(tenant, "Parking", "Free parking behind the studio.", source=source)
    client = _client_for(root)
    # when its change form is posted with the other tenant
    changed = client.post(
        f"/admin/knowledge/knowledgesource/{source.pk}/change/",
        {"tenant": other_tenant.pk, "name": "Help centre", "kind": SourceKind.UPLOAD, "config": "{}"},
    )
    # then the source stays with the tenant of its documents
    assert changed.status_code == 302
    source.refresh_from_db()
    assert source.tenant_id == tenant.pk
    # and deleting it takes its chunks out of that tenant's statistics (the ORM cascade did not)
    client.post(f"/admin/knowledge/knowledgesource/{source.pk}/delete/", {"post": "yes"})
    assert not KnowledgeSource.objects.filter(pk=source.pk).exists()
    assert not Chunk.objects.filter(tenant=tenant).exists()
    assert CorpusStats.objects.get(tenant=tenant).chunk_count == 0


def test_sync_now_when_the_task_queue_is_down_tells_the_source_instead_of_failing(
    owner: User, tenant: Tenant, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    from kombu.exceptions import OperationalError

    from knowledge import tasks
    from knowledge.source_config import SYNC_NOT_QUEUED

    # given a website source and a task queue that refuses work
    source = KnowledgeSource.objects.create(
        tenant=tenant, name="Help centre", kind=SourceKind.URL, config={"start_url": "https://alpha.example.com/"}
    )

    def broker_down(*args: object) -> None:
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.sync_source, "delay", broker_down)
    # when the owner runs "Sync now" on it
    with django_capture_on_commit_callbacks(execute=True):
        response = _client_for(owner).post(
            "/admin/knowledge/knowledgesource/", {"action": "sync_now", "_selected_action": [source.pk]}
        )
    # then the page answers and the source says the sync was not queued
    assert response.status_code == 302
    source.refresh_from_db()
    assert (source.status, source.error) == (SourceStatus.IDLE, SYNC_NOT_QUEUED)


def test_staff_who_manage_another_tenant_only_view_the_knowledge_of_one_they_are_an_agent_in(
    tenant: Tenant, other_tenant: Tenant, django_capture_on_commit_callbacks: Any
) -> None:
    # given an agent of the tenant who owns another one (so the admin's add/change/delete
    # permissions without an object are theirs), and the tenant's failed document and website source
    user = UserFactory.create(username="mixed", is_staff=True)
    MembershipFactory.create(user=user, tenant=tenant, role=Role.AGENT)
    MembershipFactory.create(user=user, tenant=other_tenant, role=Role.OWNER)
    document = add_document(tenant, "Parking", "Free parking behind the studio.")
    Document.objects.filter(pk=document.pk).update(status=DocumentStatus.FAILED, error="timed out")
    source = KnowledgeSource.objects.create(
        tenant=tenant, name="Help centre", kind=SourceKind.URL, config={"start_url": "https://alpha.example.com/"}
    )
    client = _client_for(user)
    # when they list them, then post their change and delete pages, the bulk delete and the actions
    listed = client.get("/admin/knowledge/document/").text + client.get("/admin/knowledge/knowledgesource/").text
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        refused = [
            client.post(_change_url(document), {"url": "https://evil.example/", "language": "de"}),
            client.post(f"/admin/knowledge/document/{document.pk}/delete/", {"post": "yes"}),
            client.post(f"/admin/knowledge/knowledgesource/{source.pk}/change/", {"name": "Taken", "config": "{}"}),
            client.post(f"/admin/knowledge/knowledgesource/{source.pk}/delete/", {"post": "yes"}),
            client.post(
                "/admin/knowledge/document/",
                {"action": "delete_selected", "_selected_action": [document.pk], "post": "yes"},
            ),
            client.post(
                "/admin/knowledge/knowledgesource/",
                {"action": "delete_selected", "_selected_action": [source.pk], "post": "yes"},
            ),
            client.post(
                "/admin/knowledge/knowledgesource/add/",
                {"tenant": tenant.pk, "name": "Mine", "kind": SourceKind.UPLOAD, "config": "{}"},
            ),
        ]
        reindexed = client.post(
            "/admin/knowledge/document/", {"action": "reindex", "_selected_action": [document.pk]}, follow=True
        )
        synced = client.post(
            "/admin/knowledge/knowledgesource/", {"action": "sync_now", "_selected_action": [source.pk]}, follow=True
        )
    # then they see both, but every change is refused (a 403, or the add form's tenant choice)
    assert "Parking" in listed and "Help centre" in listed
    assert [response.status_code for response in refused] == [403] * 6 + [200]
    assert "tenant" in refused[-1].context["adminform"].form.errors
    assert "Re-indexing 0 documents" in reindexed.text and "Sync queued for 0 URL sources." in synced.text
    assert callbacks == []
    url, language = document.url, document.language
    document.refresh_from_db()
    assert (document.url, document.language, document.status) == (url, language, DocumentStatus.FAILED)
    names = set(KnowledgeSource.objects.for_tenant(tenant).values_list("name", flat=True))
    assert names == {"Help centre", document.source.name}


def test_a_folder_sources_path_shows_in_the_admin_to_superusers_only(root: User, owner: User, tenant: Tenant) -> None:
    # given a folder source that manage.py ingest made, with the server's path in its settings
    source = KnowledgeSource.objects.create(
        tenant=tenant, name="Help", kind=SourceKind.UPLOAD, config={"path": "/srv/operator/help", "note": "x"}
    )
    url = f"/admin/knowledge/knowledgesource/{source.pk}/change/"
    # when the tenant's owner, who is staff, opens its change page and posts it, and so does a superuser
    page = _client_for(owner).get(url)
    posted = _client_for(owner).post(url, {"name": "Help centre", "config": '{"path": "/etc"}'})
    ops = _client_for(root).get(url)
    # then the owner neither sees nor sets the path, and the superuser sees it
    assert page.status_code == 200 and "/srv/operator" not in page.text
    assert "{&quot;note&quot;: &quot;x&quot;}" in page.text
    assert "config" not in page.context["adminform"].form.fields
    assert posted.status_code == 302
    source.refresh_from_db()
    assert (source.name, source.config) == ("Help centre", {"path": "/srv/operator/help", "note": "x"})
    assert "/srv/operator/help" in ops.text


def _another_request_takes_the_name(monkeypatch: pytest.MonkeyPatch, *, tenant: Tenant, name: str) -> None:
    """Once the admin form is valid, and before it is saved, another staff member's request saves a
    source of that name (another connection, committed)."""
    model_admin = admin.site._registry[KnowledgeSource]
    validated = model_admin.save_form

    def validated_then_taken(*args: Any, **kwargs: Any) -> Any:
        if not KnowledgeSource.objects.filter(tenant=tenant, name=name).exists():
            thread = threading.Thread(target=_commit_source, kwargs={"tenant": tenant, "name": name})
            thread.start()
            thread.join()
        return validated(*args, **kwargs)

    monkeypatch.setattr(model_admin, "save_form", validated_then_taken)


def _commit_source(*, tenant: Tenant, name: str) -> None:
    try:
        KnowledgeSource.objects.create(tenant=tenant, name=name, kind=SourceKind.UPLOAD)
    finally:
        connection.close()  # the thread's own connection


@pytest.mark.django_db(transaction=True)
def test_a_website_source_whose_name_is_taken_while_it_is_added_in_the_admin_is_a_form_error(
    root: User, tenant: Tenant, other_tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given another tenant's source of the name, and a staff member adding a website source of it,
    # whose form passes its check just before another request of the tenant saves that name
    KnowledgeSource.objects.create(tenant=other_tenant, name="Help centre", kind=SourceKind.UPLOAD)
    _another_request_takes_the_name(monkeypatch, tenant=tenant, name="Help centre")
    # when the form is saved
    response = _client_for(root).post(
        ADD_SOURCE,
        {
            "tenant": tenant.pk,
            "name": "Help centre",
            "kind": SourceKind.URL,
            "config": '{"start_url": "https://help.example.com/"}',
        },
    )
    # then the staff member is told the name is taken, as the console and the API tell it, instead of
    # the unique constraint failing the request; the other request's source is the tenant's only one
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"name": [NAME_TAKEN.format(name="Help centre")]}
    assert list(KnowledgeSource.objects.filter(tenant=tenant).values_list("name", "kind")) == [
        ("Help centre", SourceKind.UPLOAD)
    ]


@pytest.mark.django_db(transaction=True)
def test_a_source_renamed_in_the_admin_to_a_name_taken_meanwhile_keeps_its_name(
    root: User, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a source whose rename passes the form's check just before another request takes the name
    manuals = KnowledgeSource.objects.create(tenant=tenant, name="Manuals", kind=SourceKind.UPLOAD)
    _another_request_takes_the_name(monkeypatch, tenant=tenant, name="Help centre")
    # when the rename is saved
    response = _client_for(root).post(
        f"/admin/knowledge/knowledgesource/{manuals.pk}/change/", {"name": "Help centre", "config": "{}"}
    )
    # then the form says the name is taken and the source keeps its name
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"name": [NAME_TAKEN.format(name="Help centre")]}
    manuals.refresh_from_db()
    assert manuals.name == "Manuals"


def _long_document(tenant: Tenant, source: KnowledgeSource | None = None) -> Document:
    text = "\n\n".join(
        f"Rule {i}: cars parked in bay {i} after {i % 12} pm are towed at the owner's cost." for i in range(900)
    )
    document = add_document(tenant, "Parking rules", text, source=source)
    assert Chunk.objects.filter(document=document).count() >= 200
    return document


def test_the_admin_delete_page_of_a_document_costs_no_query_per_chunk(
    owner: User, tenant: Tenant, other_tenant: Tenant, django_assert_max_num_queries: Any
) -> None:
    # given a tenant owner (not a superuser), a document of hundreds of chunks, and another tenant's document
    document = _long_document(tenant)
    theirs = add_document(other_tenant, "Parking", "Free parking behind the spa.")
    client = _client_for(owner)
    # when the owner opens the document's delete page
    with django_assert_max_num_queries(20):
        page = client.get(f"/admin/knowledge/document/{document.pk}/delete/")
    # then it sums the chunks up rather than listing each
    assert page.status_code == 200
    chunks = Chunk.objects.filter(document=document).count()
    assert f"Chunks: {chunks}" in page.text
    # and posting it deletes the document with its chunks, and only that
    with django_assert_max_num_queries(60):
        posted = client.post(f"/admin/knowledge/document/{document.pk}/delete/", {"post": "yes"})
    assert posted.status_code == 302
    assert not Document.objects.filter(pk=document.pk).exists() and not Chunk.objects.filter(tenant=tenant).exists()
    assert Chunk.objects.filter(document=theirs).exists()


def test_the_admin_delete_page_of_a_source_costs_no_query_per_chunk(
    owner: User, tenant: Tenant, other_tenant: Tenant, django_assert_max_num_queries: Any
) -> None:
    # given a tenant owner, a source of two documents (one of hundreds of chunks), and another tenant's source
    source = KnowledgeSource.objects.create(tenant=tenant, name="Help centre", kind=SourceKind.UPLOAD)
    _long_document(tenant, source)
    add_document(tenant, "Hours", "Open daily.", source=source)
    theirs = KnowledgeSource.objects.create(tenant=other_tenant, name="Help centre", kind=SourceKind.UPLOAD)
    add_document(other_tenant, "Hours", "Open on Sundays.", source=theirs)
    client = _client_for(owner)
    # when the owner opens the source's delete page
    with django_assert_max_num_queries(20):
        page = client.get(f"/admin/knowledge/knowledgesource/{source.pk}/delete/")
    # then it sums the documents and chunks up
    assert page.status_code == 200
    chunks = Chunk.objects.filter(document__source=source).count()
    assert "Documents: 2" in page.text and f"Chunks: {chunks}" in page.text
    # and posting it deletes the source with its documents, and only that tenant's
    with django_assert_max_num_queries(80):
        posted = client.post(f"/admin/knowledge/knowledgesource/{source.pk}/delete/", {"post": "yes"})
    assert posted.status_code == 302
    assert (
        not KnowledgeSource.objects.filter(pk=source.pk).exists() and not Chunk.objects.filter(tenant=tenant).exists()
    )
    assert Document.objects.filter(source=theirs).count() == 1


def test_the_admin_bulk_delete_of_documents_asks_the_users_tenants_once(
    owner: User, tenant: Tenant, other_tenant: Tenant, django_assert_max_num_queries: Any
) -> None:
    # given thirty documents of the owner's tenant, and one of another tenant
    documents = [add_document(tenant, f"Page {i}", f"Opening hours of room {i}.") for i in range(30)]
    theirs = add_document(other_tenant, "Page 0", "Opening hours of the spa.")
    selected = {"action": "delete_selected", "_selected_action": [d.pk for d in documents] + [theirs.pk]}
    client = _client_for(owner)
    # when the owner asks to delete them all at once (the other tenant's id slipped in)
    with django_assert_max_num_queries(20):
        page = client.post("/admin/knowledge/document/", selected)
    # then the confirmation lists the owner's thirty documents, each with its chunks, and not the other's
    assert page.status_code == 200
    assert page.text.count("Document: <a ") == 30 and "Opening hours of the spa" not in page.text
    assert f"Chunks: {Chunk.objects.filter(tenant=tenant).count()}" in page.text
    # and confirming deletes those thirty only
    client.post("/admin/knowledge/document/", {**selected, "post": "yes"})
    assert not Document.objects.filter(tenant=tenant).exists()
    assert Document.objects.filter(pk=theirs.pk).exists()
