"""Website (URL) sources from the console: add, settings, delete — the API's rules, roles, tenants."""

from __future__ import annotations

import dataclasses

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from django.utils.html import escape

from knowledge import conf
from knowledge.console_access import SWITCHED_FROM_ITS_TENANT
from knowledge.models import Chunk, Document, KnowledgeSource, SourceKind, SourceStatus
from knowledge.services import source_delete
from knowledge.source_config import (
    BAD_NUMBER,
    BAD_URL,
    NAME_TAKEN,
    PRIVATE_URL,
    url_source_create,
    url_source_update,
)
from knowledge.sources import DELETE_WHILE_SYNCING, knowledge_source_delete
from knowledge.tests.factories import add_document
from knowledge.tests.site_fake import FakeSite
from supportai.bidi import isolate
from supportai.models import Role, Tenant
from supportai.tests.factories import MembershipFactory, UserFactory, api_client

NEW = "/console/knowledge/sources/new/"
# What the form calls the settings its errors name (the REST API names them by key: start_url).
LABELS = {"start_url": "Start URL", "sitemap_url": "Sitemap URL"}
ONE_ENTRY_URL_IN_THE_FORM = "Set exactly one of Start URL (crawl from a page) and Sitemap URL (read a sitemap.xml)."
YEAR_MINUTES = 365 * 24 * 60


def _edit(source: KnowledgeSource) -> str:
    return f"/console/knowledge/sources/{source.pk}/edit/"


def _delete(source: KnowledgeSource) -> str:
    return f"/console/knowledge/sources/{source.pk}/delete/"


@pytest.fixture
def admin(tenant: Tenant) -> User:
    user: User = MembershipFactory.create(user=UserFactory.create(username="dana"), tenant=tenant, role=Role.ADMIN).user
    return user


@pytest.fixture
def public_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """The production default: sources may not point at private, loopback or link-local hosts."""
    monkeypatch.setattr(conf, "SETTINGS", dataclasses.replace(conf.SETTINGS, crawl_allow_private=False))


@pytest.fixture
def small_site(site: FakeSite) -> FakeSite:
    site.article("/", "Welcome", "Our help centre.", links=("/parking",))
    site.article("/parking", "Parking", "Free parking behind the studio.")
    return site


def _source(tenant: Tenant, name: str = "Website", **config: object) -> KnowledgeSource:
    config = config or {"start_url": "https://help.example.com/"}
    return url_source_create(tenant=tenant, name=name, config=config, sync_now=False)


def _form(**fields: object) -> dict[str, object]:
    return {"name": "Help centre", "start_url": "https://help.example.com/", **fields}


# --- add ---------------------------------------------------------------------------------------


@pytest.mark.usefixtures("local_crawl")
def test_url_source_new_creates_the_source_and_runs_its_first_sync(
    client, admin, tenant, small_site, django_capture_on_commit_callbacks
):
    # given an admin on the knowledge page
    client.force_login(admin)
    assert "Add a website" in client.get("/console/knowledge/").content.decode()
    # when they add the site with "Sync now" ticked (Celery is eager in tests: the sync runs on commit)
    form = _form(start_url=f"{small_site.url}/", max_pages="10", max_depth="1", sync_interval_minutes="60")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(NEW, {**form, "sync_now": "on"}, follow=True)
    # then the source exists with those settings, and its pages are documents
    assert response.redirect_chain == [("/console/knowledge/", 302)]
    assert f"Added {isolate('Help centre')}: its first sync is queued" in response.content.decode()
    source = KnowledgeSource.objects.get(tenant=tenant)
    assert source.kind == SourceKind.URL
    assert source.config == {
        "start_url": f"{small_site.url}/",
        "max_pages": 10,
        "max_depth": 1,
        "sync_interval_minutes": 60,
    }
    assert len(callbacks) == 1
    source.refresh_from_db()
    assert source.status == SourceStatus.IDLE and source.last_synced_at is not None
    assert {d.title for d in source.documents.all()} == {"Welcome", "Parking"}
    # and the sources table says what that sync did
    assert "2 pages: 2 created, 0 updated" in client.get("/console/knowledge/").content.decode()


def test_url_source_new_without_sync_now_queues_nothing_and_takes_the_defaults(
    client, owner, tenant, django_capture_on_commit_callbacks
):
    client.force_login(owner)
    page = client.get(NEW).content.decode()
    assert 'name="sync_now" id="id_sync_now" checked' in page  # offered by default
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(
            NEW, _form(sitemap_url="https://help.example.com/sitemap.xml", start_url=""), follow=True
        )
    assert f"Added {isolate('Help centre')}: use Sync now to read it." in response.content.decode()
    assert callbacks == []
    source = KnowledgeSource.objects.get(tenant=tenant)
    assert source.config == {
        "sitemap_url": "https://help.example.com/sitemap.xml",
        "max_pages": 100,
        "max_depth": 2,
        "sync_interval_minutes": conf.SETTINGS.url_sync_interval_minutes,
    }


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        (
            {"sitemap_url": "https://help.example.com/sitemap.xml"},
            "__all__",
            ONE_ENTRY_URL_IN_THE_FORM,
        ),
        ({"start_url": ""}, "__all__", ONE_ENTRY_URL_IN_THE_FORM),
        (
            {"start_url": "ftp://help.example.com/"},
            "start_url",
            BAD_URL.format(key="Start URL", value="ftp://help.example.com/"),
        ),
        ({"path_prefix": "help"}, "path_prefix", "Path prefix must start with '/'; got 'help'."),
        ({"max_depth": "11"}, "max_depth", BAD_NUMBER.format(key="Max link depth", minimum=0, maximum=10, value=11)),
        ({"max_pages": "-1"}, "max_pages", BAD_NUMBER.format(key="Max pages", minimum=1, maximum=1000, value=-1)),
        ({"max_pages": "1001"}, "max_pages", BAD_NUMBER.format(key="Max pages", minimum=1, maximum=1000, value=1001)),
        (
            {"sync_interval_minutes": str(YEAR_MINUTES + 1)},
            "sync_interval_minutes",
            BAD_NUMBER.format(key="Resync every (minutes)", minimum=0, maximum=YEAR_MINUTES, value=YEAR_MINUTES + 1),
        ),
        ({"max_pages": "ten"}, "max_pages", "Enter a whole number."),
        ({"name": ""}, "name", "This field is required."),
    ],
)
def test_url_source_new_shows_the_error_on_its_field_and_keeps_the_input(
    client, owner, fields, field, message, monkeypatch
):
    # given a page ceiling of 1000 whatever the environment says
    monkeypatch.setattr(conf, "SETTINGS", dataclasses.replace(conf.SETTINGS, crawl_max_pages=1000))
    client.force_login(owner)
    data = _form(**{"path_prefix": "/docs/", **fields})
    # when
    response = client.post(NEW, data)
    # then the form comes back with the error where it belongs, naming the field by its label, and what was typed
    assert response.status_code == 200
    assert response.context["form"].errors == {field: [message]}
    body = response.content.decode()
    assert escape(message) in body
    for key, value in data.items():
        if value:
            assert f'name="{key}" value="{escape(value)}"' in body
    assert not KnowledgeSource.objects.exists()


@pytest.mark.usefixtures("public_only")
@pytest.mark.parametrize(
    ("key", "url", "host"),
    [
        ("start_url", "http://127.0.0.1:8000/", "127.0.0.1"),
        ("start_url", "http://localhost/help/", "localhost"),
        ("sitemap_url", "https://10.0.0.7/sitemap.xml", "10.0.0.7"),
        ("start_url", "http://169.254.169.254/latest/", "169.254.169.254"),
        ("start_url", "http://[::1]/", "::1"),
    ],
)
def test_url_source_new_refuses_private_addresses(client, owner, key, url, host, django_capture_on_commit_callbacks):
    client.force_login(owner)
    data = {"name": "Intranet", "start_url": "", key: url, "sync_now": "on"}
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(NEW, data)
    message = PRIVATE_URL.format(key=LABELS[key], host=host)
    assert response.status_code == 200 and response.context["form"].errors == {key: [message]}
    assert escape(message) in response.content.decode() and f'value="{url}"' in response.content.decode()
    assert callbacks == [] and not KnowledgeSource.objects.exists()


@pytest.mark.usefixtures("public_only")
def test_url_source_new_lets_through_a_host_that_does_not_resolve_yet(client, owner, tenant):
    # the sync reports a name that does not resolve; creation does not depend on DNS being up
    client.force_login(owner)
    response = client.post(NEW, _form(start_url="https://help.invalid/"))
    assert response.status_code == 302
    assert KnowledgeSource.objects.get(tenant=tenant).config["start_url"] == "https://help.invalid/"


def test_url_source_new_refuses_a_name_the_tenant_uses(client, owner, tenant, other_tenant):
    # given the name in use in this tenant (by an upload source) and in another tenant
    KnowledgeSource.objects.create(tenant=tenant, name="Help centre", kind=SourceKind.UPLOAD)
    _source(other_tenant, name="Theirs")
    client.force_login(owner)
    # when / then
    response = client.post(NEW, _form())
    assert response.context["form"].errors == {"name": [NAME_TAKEN.format(name="Help centre")]}
    assert KnowledgeSource.objects.filter(tenant=tenant).count() == 1
    # another tenant's names are no obstacle
    assert client.post(NEW, _form(name="Theirs")).status_code == 302


@pytest.mark.usefixtures("public_only")
def test_api_refuses_private_addresses_with_the_same_rule(tenant):
    client = api_client(tenant)
    response = client.post("/api/v1/knowledge/sources/", {"name": "W", "start_url": "http://127.0.0.1/"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"start_url": [PRIVATE_URL.format(key="start_url", host="127.0.0.1")]}
    response = client.post(
        "/api/v1/knowledge/sources/", {"name": "W", "start_url": "https://a.example/", "max_depth": 11}
    )
    assert response.status_code == 400
    assert response.json() == {"max_depth": [BAD_NUMBER.format(key="max_depth", minimum=0, maximum=10, value=11)]}
    assert not KnowledgeSource.objects.exists()


def test_url_source_new_requires_the_csrf_token(owner):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    assert client.post(NEW, _form()).status_code == 403
    assert not KnowledgeSource.objects.exists()


# --- settings ----------------------------------------------------------------------------------


def test_url_source_edit_shows_the_settings_and_saves_them(client, admin, tenant, django_capture_on_commit_callbacks):
    # given
    source = _source(tenant, start_url="https://help.example.com/", max_pages=50)
    client.force_login(admin)
    page = client.get(_edit(source)).content.decode()
    assert 'name="name" value="Website"' in page and 'name="max_pages" value="50"' in page
    assert 'value="https://help.example.com/"' in page
    # when the admin switches to the sitemap, narrows the pages and renames it
    data = {
        "name": "Help centre",
        "sitemap_url": "https://help.example.com/sitemap.xml",
        "path_prefix": "/help/",
        "max_pages": "20",
        "sync_interval_minutes": "0",
    }
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(_edit(source), data, follow=True)
    # then the settings are replaced, nothing is synced yet
    assert f"Saved the settings of {isolate('Help centre')}; the next sync uses them." in response.content.decode()
    assert callbacks == []
    source.refresh_from_db()
    assert source.name == "Help centre"
    assert source.config == {
        "sitemap_url": "https://help.example.com/sitemap.xml",
        "path_prefix": "/help/",
        "max_pages": 20,
        "max_depth": 2,
        "sync_interval_minutes": 0,
    }


@pytest.mark.usefixtures("local_crawl")
def test_url_source_edit_with_sync_now_queues_a_sync(
    client, owner, tenant, small_site, django_capture_on_commit_callbacks
):
    source = _source(tenant, start_url=f"{small_site.url}/parking")
    client.force_login(owner)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(_edit(source), {"name": "Website", "start_url": f"{small_site.url}/", "sync_now": "on"})
    assert response.status_code == 302 and len(callbacks) == 1
    assert {d.title for d in source.documents.all()} == {"Welcome", "Parking"}


def test_url_source_edit_keeps_the_source_and_the_input_on_bad_settings(client, owner, tenant):
    # given two sources
    source = _source(tenant, start_url="https://help.example.com/")
    _source(tenant, name="Blog", start_url="https://blog.example.com/")
    client.force_login(owner)
    # when one is renamed to the other's name, then
    response = client.post(_edit(source), {"name": "Blog", "start_url": "https://docs.example.com/"})
    assert response.context["form"].errors == {"name": [NAME_TAKEN.format(name="Blog")]}
    assert 'value="https://docs.example.com/"' in response.content.decode()
    # when both URLs are set, then
    response = client.post(
        _edit(source), {"name": "Website", "start_url": "https://a.example/", "sitemap_url": "https://a.example/s.xml"}
    )
    assert response.context["form"].errors == {"__all__": [ONE_ENTRY_URL_IN_THE_FORM]}
    # and the stored source never changed
    source.refresh_from_db()
    assert source.name == "Website" and source.config["start_url"] == "https://help.example.com/"


def test_url_source_edit_keeps_its_own_name(client, owner, tenant):
    source = _source(tenant)
    client.force_login(owner)
    response = client.post(
        _edit(source), {"name": "Website", "start_url": "https://help.example.com/", "max_depth": "0"}
    )
    assert response.status_code == 302
    source.refresh_from_db()
    assert source.config["max_depth"] == 0


@pytest.mark.usefixtures("public_only")
def test_url_source_edit_refuses_a_private_address(client, owner, tenant):
    source = _source(tenant)
    client.force_login(owner)
    response = client.post(_edit(source), {"name": "Website", "start_url": "http://192.168.1.10/"})
    assert response.context["form"].errors == {"start_url": [PRIVATE_URL.format(key="Start URL", host="192.168.1.10")]}
    source.refresh_from_db()
    assert source.config["start_url"] == "https://help.example.com/"


def test_upload_sources_have_no_settings_or_console_delete(client, owner, tenant):
    add_document(tenant, "Parking", "Free parking.")
    uploads = KnowledgeSource.objects.get(tenant=tenant)
    client.force_login(owner)
    page = client.get("/console/knowledge/").content.decode()
    assert _edit(uploads) not in page and _delete(uploads) not in page
    assert client.get(_edit(uploads)).status_code == 404
    assert client.post(_delete(uploads)).status_code == 404
    assert Document.objects.filter(source=uploads).count() == 1


# --- delete ------------------------------------------------------------------------------------


def test_url_source_delete_asks_first_then_removes_documents_and_chunks(client, owner, tenant):
    # given a website source with two indexed pages, and an upload that must stay
    source = _source(tenant)
    add_document(tenant, "Parking", "Free parking behind the studio.", source=source)
    add_document(tenant, "Hours", "Open nine to seven.", source=source)
    kept = add_document(tenant, "Refunds", "Refunds take five days.")
    assert Chunk.objects.filter(document__source=source).exists()
    child_chunks = sum(document.chunk_count for document in source.documents.all())
    client.force_login(owner)
    # when the owner opens the delete page, then it asks, with what will go, and deletes nothing
    page = client.get(_delete(source))
    summary = " ".join(page.content.decode().split())
    assert f"its 2 documents and {child_chunks} chunks" in summary
    assert KnowledgeSource.objects.filter(pk=source.pk).exists()
    # when they confirm
    response = client.post(_delete(source), follow=True)
    # then the source, its documents and their chunks are gone, the rest stays
    assert f"Deleted {isolate('Website')} and its 2 documents." in response.content.decode()
    assert not KnowledgeSource.objects.filter(pk=source.pk).exists()
    assert not Document.objects.filter(source_id=source.pk).exists()
    assert set(Chunk.objects.filter(tenant=tenant).values_list("document_id", flat=True)) == {kept.pk}


def test_url_source_delete_is_refused_while_a_sync_runs(client, owner, tenant):
    source = _source(tenant)
    add_document(tenant, "Parking", "Free parking.", source=source)
    KnowledgeSource.objects.filter(pk=source.pk).update(status=SourceStatus.SYNCING, sync_started_at=timezone.now())
    client.force_login(owner)
    response = client.post(_delete(source), follow=True)
    assert DELETE_WHILE_SYNCING in response.content.decode()
    source.refresh_from_db()
    assert source.status == SourceStatus.SYNCING and source.documents.count() == 1


def test_url_source_delete_only_on_post(client, owner, tenant):
    source = _source(tenant)
    client.force_login(owner)
    assert client.put(_delete(source)).status_code == 405
    assert client.delete(_delete(source)).status_code == 405
    assert client.get(_delete(source)).status_code == 200
    assert KnowledgeSource.objects.filter(pk=source.pk).exists()


# --- roles and tenants -------------------------------------------------------------------------


def test_agents_see_no_source_controls_and_get_403(client, agent, tenant):
    # given
    source = _source(tenant)
    client.force_login(agent)
    # when / then: the page lists the source without the controls
    page = client.get("/console/knowledge/").content.decode()
    assert "Website" in page
    assert "Add a website" not in page and _edit(source) not in page and _delete(source) not in page
    # and every form and action is refused
    assert client.get(NEW).status_code == 403
    assert client.post(NEW, _form()).status_code == 403
    assert client.get(_edit(source)).status_code == 403
    assert client.post(_edit(source), {"name": "Mine", "start_url": "https://a.example/"}).status_code == 403
    assert client.get(_delete(source)).status_code == 403
    assert client.post(_delete(source)).status_code == 403
    source.refresh_from_db()
    assert source.name == "Website" and KnowledgeSource.objects.filter(tenant=tenant).count() == 1


def test_the_console_acts_with_the_role_of_the_tenant_it_is_switched_to(client, tenant, other_tenant):
    # given an agent of the tenant who owns another one, and a source and document of each tenant
    user = UserFactory.create(username="erin")
    MembershipFactory.create(user=user, tenant=tenant, role=Role.AGENT)
    MembershipFactory.create(user=user, tenant=other_tenant, role=Role.OWNER)
    source, theirs = _source(tenant), _source(other_tenant, name="Bravo site")
    document = add_document(tenant, "Parking", "Free parking.")
    client.force_login(user)
    # when the console acts for the tenant they are an agent of
    client.post("/console/switch-tenant/", {"tenant_id": tenant.pk})
    page = client.get("/console/knowledge/").content.decode()
    upload = {"upload": SimpleUploadedFile("faq.md", b"# Gifts\n\nGift cards.")}
    refused = [
        client.post("/console/knowledge/", {**upload, "tenant": tenant.pk}),
        client.post(NEW, {**_form(), "tenant": tenant.pk}),
        client.post(_edit(source), {"name": "Mine", "start_url": "https://a.example/"}),
        client.post(_delete(source)),
        client.post(f"/console/knowledge/sources/{source.pk}/sync/"),
        client.post(f"/console/knowledge/documents/{document.pk}/delete/"),
    ]
    # then it lists the tenant's knowledge without the controls, and every change is refused
    assert "Website" in page and "Bravo site" not in page and "Add a website" not in page
    assert [response.status_code for response in refused] == [403] * 6
    names = set(KnowledgeSource.objects.values_list("name", flat=True))
    assert names == {"Bravo site", "Website", document.source.name}
    assert list(Document.objects.values_list("pk", flat=True)) == [document.pk]
    # and switched to the tenant they own, the other tenant's source is not found, their own is theirs
    client.post("/console/switch-tenant/", {"tenant_id": other_tenant.pk})
    assert client.get(_edit(source)).status_code == 404
    assert client.post(_delete(source)).status_code == 404
    assert client.get(_edit(theirs)).status_code == 200
    source.refresh_from_db()
    assert source.name == "Website"


@pytest.fixture
def owner_of_both(owner: User, other_tenant: Tenant) -> User:
    """The tenant's owner, who owns the other tenant too."""
    MembershipFactory.create(user=owner, tenant=other_tenant, role=Role.OWNER)
    return owner


def _switched_to(client: Client, tenant: Tenant) -> None:
    """Switch the console (in "another tab") to ``tenant``."""
    assert client.post("/console/switch-tenant/", {"tenant_id": tenant.pk}).status_code == 302


def test_url_source_edit_after_a_tenant_switch_keeps_the_input_and_saves_nothing(
    client, owner_of_both, tenant, other_tenant, django_capture_on_commit_callbacks
):
    # given a source of each tenant, and the settings page of the tenant's source opened
    source, theirs = _source(tenant), _source(other_tenant)
    client.force_login(owner_of_both)
    _switched_to(client, tenant)
    assert f'name="tenant" value="{tenant.pk}"' in client.get(_edit(source)).content.decode()
    # when the console is switched to the other tenant, then the page is saved with new settings
    _switched_to(client, other_tenant)
    typed = {"name": "Typed name", "start_url": "https://typed.example/", "sync_now": "on", "tenant": tenant.pk}
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(_edit(source), typed)
    # then the page is shown again with the input and why nothing was saved
    page = response.content.decode()
    assert response.status_code == 200
    assert escape(SWITCHED_FROM_ITS_TENANT.format(done="saved", tenant=other_tenant.name)) in page
    assert 'name="name" value="Typed name"' in page and 'value="https://typed.example/"' in page
    assert f'name="tenant" value="{tenant.pk}"' in page
    # and neither tenant's source changed, nor was a sync queued
    assert callbacks == []
    for unchanged in (source, theirs):
        unchanged.refresh_from_db()
        assert (unchanged.name, unchanged.config["start_url"]) == ("Website", "https://help.example.com/")
    # and switched back, the same input saves
    _switched_to(client, tenant)
    assert client.post(_edit(source), {**typed, "sync_now": ""}).status_code == 302
    source.refresh_from_db()
    assert source.name == "Typed name"


def test_url_source_edit_posted_for_a_tenant_the_user_is_not_in_is_not_found(client, outsider, tenant, other_tenant):
    # given the tenant's source, and the other tenant's owner claiming the page was opened for the tenant
    source = _source(tenant)
    client.force_login(outsider)
    typed = {"name": "Taken over", "start_url": "https://evil.example/", "tenant": tenant.pk}
    # when the owner posts its settings, then it is not theirs to see
    assert client.post(_edit(source), typed).status_code == 404
    # and an agent of the tenant (owner of the other) may not change it either
    MembershipFactory.create(user=outsider, tenant=tenant, role=Role.AGENT)
    _switched_to(client, other_tenant)
    assert client.post(_edit(source), typed).status_code == 403
    # and it is unchanged
    source.refresh_from_db()
    assert source.name == "Website" and source.config["start_url"] == "https://help.example.com/"


def test_sync_and_deletes_after_a_tenant_switch_say_so_and_change_nothing(
    client, owner_of_both, tenant, other_tenant, django_capture_on_commit_callbacks
):
    # given the tenant's source and document, and the pages that sync and delete them opened
    source = _source(tenant)
    document = add_document(tenant, "Parking", "Free parking.")
    client.force_login(owner_of_both)
    _switched_to(client, tenant)
    pages = [
        client.get("/console/knowledge/"),
        client.get(_delete(source)),
        client.get(f"/console/knowledge/documents/{document.pk}/delete/"),
    ]
    assert all(f'name="tenant" value="{tenant.pk}"' in page.content.decode() for page in pages)
    # when the console is switched to the other tenant, then each is posted
    _switched_to(client, other_tenant)
    posted = {"tenant": tenant.pk}
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        answers = [
            (client.post(f"/console/knowledge/sources/{source.pk}/sync/", posted, follow=True), "queued"),
            (client.post(_delete(source), posted, follow=True), "deleted"),
            (client.post(f"/console/knowledge/documents/{document.pk}/delete/", posted, follow=True), "deleted"),
        ]
    # then each says the console switched, and nothing was queued or deleted
    for response, done in answers:
        assert response.status_code == 200
        said = [str(m) for m in response.context["messages"]]
        assert said == [SWITCHED_FROM_ITS_TENANT.format(done=done, tenant=other_tenant.name)]
    assert callbacks == []
    assert KnowledgeSource.objects.filter(pk=source.pk).exists() and Document.objects.filter(pk=document.pk).exists()


def test_admins_see_the_source_controls(client, admin, tenant):
    source = _source(tenant)
    client.force_login(admin)
    page = client.get("/console/knowledge/").content.decode()
    assert "Add a website" in page and _edit(source) in page and _delete(source) in page
    assert client.get(NEW).status_code == 200
    assert client.get(_edit(source)).status_code == 200


def test_another_tenants_staff_cannot_see_edit_or_delete_the_source(client, outsider, tenant, other_tenant):
    # given tenant A's source with a document, and B's owner logged in
    source = _source(tenant)
    add_document(tenant, "Parking", "Free parking.", source=source)
    client.force_login(outsider)
    # then B's page does not show it, and every URL of it is a 404
    assert "Website" not in client.get("/console/knowledge/").content.decode()
    assert client.get(_edit(source)).status_code == 404
    assert client.post(_edit(source), {"name": "Taken over", "start_url": "https://evil.example/"}).status_code == 404
    assert client.get(_delete(source)).status_code == 404
    assert client.post(_delete(source)).status_code == 404
    # and creating one in B never touches A
    assert client.post(NEW, _form(name="Website")).status_code == 302
    source.refresh_from_db()
    assert source.name == "Website" and source.config["start_url"] == "https://help.example.com/"
    assert source.documents.count() == 1
    assert KnowledgeSource.objects.get(tenant=other_tenant).name == "Website"


def test_the_services_refuse_another_tenants_source(tenant, other_tenant):
    source = _source(tenant)
    config = {"start_url": "https://evil.example/"}
    with pytest.raises(ValueError, match="another tenant"):
        url_source_update(tenant=other_tenant, source=source, name="Mine", config=config)
    with pytest.raises(ValueError, match="another tenant"):
        knowledge_source_delete(tenant=other_tenant, source=source)
    with pytest.raises(ValueError, match="another tenant"):
        source_delete(tenant=other_tenant, source=source)
    source.refresh_from_db()
    assert source.name == "Website" and source.status == SourceStatus.IDLE
