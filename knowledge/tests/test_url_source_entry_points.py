"""URL sources through the REST API, the console, the admin, the command and the beat task — tenant-scoped."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from rest_framework.test import APIClient

from knowledge import conf, site_sync, tasks
from knowledge.console_sources import SAVED_WHILE_SYNCING
from knowledge.models import Document, KnowledgeSource, SourceKind, SourceStatus
from knowledge.source_config import (
    BAD_HOST,
    CREDENTIALS_IN_URL,
    FIRST_SYNC_QUEUED,
    NAME_TAKEN,
    NEXT_SYNC_USES_SETTINGS,
    SYNC_RUNNING,
    SourceConfigError,
    source_sync_enqueue,
    url_source_create,
)
from knowledge.sources import INTERNAL_ERROR, INTERRUPTED
from knowledge.tests.site_fake import FakeSite
from supportai.bidi import isolate
from supportai.tests.factories import api_client

pytestmark = pytest.mark.usefixtures("local_crawl")


@pytest.fixture
def small_site(site: FakeSite) -> FakeSite:
    site.article("/", "Welcome", "Our help centre.", links=("/parking",))
    site.article("/parking", "Parking", "Free parking behind the studio.")
    return site


def _source(tenant, site: FakeSite, name: str = "Website") -> KnowledgeSource:
    return url_source_create(tenant=tenant, name=name, config={"start_url": f"{site.url}/"}, sync_now=False)


def test_api_creates_a_url_source_that_syncs_after_commit(tenant, small_site, django_capture_on_commit_callbacks):
    # when
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = api_client(tenant).post(
            "/api/v1/knowledge/sources/",
            {"name": "Website", "start_url": f"{small_site.url}/", "max_pages": 10, "sync_interval_minutes": 60},
            format="json",
        )
    # then
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["kind"] == "url" and body["config"]["max_pages"] == 10 and body["config"]["sync_interval_minutes"] == 60
    assert len(callbacks) == 1
    source = KnowledgeSource.objects.get(pk=body["id"], tenant=tenant)
    assert source.status == SourceStatus.IDLE and source.documents.count() == 2
    detail = api_client(tenant).get(f"/api/v1/knowledge/sources/{source.pk}/").json()
    assert detail["status"] == "idle" and detail["last_synced_at"]
    assert detail["last_sync_summary"].startswith("2 pages: 2 created, 0 updated")


@pytest.mark.django_db(transaction=True)
def test_api_answers_with_the_source_as_its_first_sync_left_it_when_that_ran_in_the_request(tenant, small_site):
    # given Celery run eagerly (no REDIS_URL): the first sync runs inside the request, once the source is stored
    # when
    response = api_client(tenant).post(
        "/api/v1/knowledge/sources/", {"name": "Website", "start_url": f"{small_site.url}/"}, format="json"
    )
    # then the answer is the source as the sync left it, as reading it afterwards shows
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["last_synced_at"] and body["last_sync_summary"].startswith("2 pages: 2 created")
    assert body == api_client(tenant).get(f"/api/v1/knowledge/sources/{body['id']}/").json()


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        (
            {"name": "W", "start_url": "https://a.example/", "sitemap_url": "https://a.example/s.xml"},
            "non_field_errors",
            "exactly one",
        ),
        ({"name": "W", "start_url": "file:///etc/passwd"}, "start_url", "absolute http(s) URL"),
        ({"name": "W", "start_url": "https://a.example/", "path_prefix": "help"}, "path_prefix", "must start with '/'"),
    ],
)
def test_api_refuses_bad_configs(tenant, payload, field, message):
    response = api_client(tenant).post("/api/v1/knowledge/sources/", payload, format="json")
    assert response.status_code == 400 and list(response.json()) == [field]
    assert message in response.json()[field][0]
    assert not KnowledgeSource.objects.exists()


def test_api_refuses_a_duplicate_name_and_non_managers(tenant, agent, small_site):
    _source(tenant, small_site)
    response = api_client(tenant).post(
        "/api/v1/knowledge/sources/", {"name": "Website", "start_url": f"{small_site.url}/"}, format="json"
    )
    # a taken name is an error on the name, as the schema's field name -> messages promises
    assert response.status_code == 400
    assert response.json() == {"name": [NAME_TAKEN.format(name="Website")]}
    client = APIClient()
    client.force_login(agent)
    response = client.post("/api/v1/knowledge/sources/", {"name": "X", "start_url": "https://a.example/"})
    assert response.status_code == 403


def test_api_sync_and_detail_are_tenant_scoped(tenant, other_tenant, small_site, django_capture_on_commit_callbacks):
    source = _source(tenant, small_site)
    # another tenant sees and syncs nothing
    assert api_client(other_tenant).get(f"/api/v1/knowledge/sources/{source.pk}/").status_code == 404
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = api_client(other_tenant).post(f"/api/v1/knowledge/sources/{source.pk}/sync/")
    assert response.status_code == 404 and callbacks == [] and small_site.requests == []
    # the owning tenant does
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client(tenant).post(f"/api/v1/knowledge/sources/{source.pk}/sync/")
    assert response.status_code == 202 and source.documents.count() == 2


def test_api_sync_of_an_upload_source_is_a_400(tenant):
    source = KnowledgeSource.objects.create(tenant=tenant, name="Uploads", kind=SourceKind.UPLOAD)
    response = api_client(tenant).post(f"/api/v1/knowledge/sources/{source.pk}/sync/")
    assert response.status_code == 400 and "Only URL sources" in response.json()["source"][0]


def test_console_sync_now_button(
    client, owner, agent, outsider, tenant, small_site, django_capture_on_commit_callbacks
):
    # given
    source = _source(tenant, small_site)
    url = f"/console/knowledge/sources/{source.pk}/sync/"
    client.force_login(owner)
    assert "Sync now" in client.get("/console/knowledge/").content.decode()
    # another tenant's owner gets a 404 and an agent a 403; nothing is fetched
    client.force_login(outsider)
    assert client.post(url).status_code == 404
    assert "Website" not in client.get("/console/knowledge/").content.decode()
    client.force_login(agent)
    assert client.post(url).status_code == 403
    assert small_site.requests == []
    # when the owner clicks
    client.force_login(owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, follow=True)
    # then
    assert f"Sync of {isolate('Website')} queued" in response.content.decode()
    assert {d.title for d in Document.objects.for_tenant(tenant)} == {"Welcome", "Parking"}


def test_sync_now_while_a_sync_runs_says_so_everywhere(client, owner, tenant, small_site):
    # given a source a sync holds
    source = _source(tenant, small_site)
    KnowledgeSource.objects.filter(pk=source.pk).update(status=SourceStatus.SYNCING, sync_started_at=timezone.now())
    # when "sync now" is asked through the API, the console and the admin
    response = api_client(tenant).post(f"/api/v1/knowledge/sources/{source.pk}/sync/")
    client.force_login(owner)
    page = client.post(f"/console/knowledge/sources/{source.pk}/sync/", follow=True).content.decode()
    data = {"action": "sync_now", "_selected_action": [source.pk]}
    admin_page = client.post("/admin/knowledge/knowledgesource/", data, follow=True).content.decode()
    # then none claims a sync was queued: the API answers 409, the pages say a sync is running
    assert response.status_code == 409 and response.json()["detail"] == SYNC_RUNNING
    assert SYNC_RUNNING in page and f"Sync of {isolate('Website')} queued" not in page
    assert "Sync queued for 0 URL sources. 1 were already syncing." in admin_page
    assert small_site.requests == []


def test_settings_saved_with_sync_now_while_a_sync_runs_are_kept_and_say_so(client, owner, tenant, small_site):
    # given a source a sync holds
    source = _source(tenant, small_site)
    KnowledgeSource.objects.filter(pk=source.pk).update(status=SourceStatus.SYNCING, sync_started_at=timezone.now())
    client.force_login(owner)
    # when its settings are saved with "Sync now" ticked
    form = {"name": "Help site", "start_url": f"{small_site.url}/", "max_pages": 5, "max_depth": 1, "sync_now": "on"}
    page = client.post(f"/console/knowledge/sources/{source.pk}/edit/", form, follow=True).content.decode()
    # then they are saved, and the page says the running sync uses the old ones
    source.refresh_from_db()
    assert (source.name, source.config["max_pages"]) == ("Help site", 5)
    assert f"Saved the settings of {isolate('Help site')}; {SAVED_WHILE_SYNCING}" in page


def test_admin_sync_action_is_tenant_scoped(
    client, owner, outsider, tenant, small_site, django_capture_on_commit_callbacks
):
    source = _source(tenant, small_site)
    data = {"action": "sync_now", "_selected_action": [source.pk]}
    # another tenant's staff cannot see or sync it
    client.force_login(outsider)
    assert "Website" not in client.get("/admin/knowledge/knowledgesource/").content.decode()
    assert client.get(f"/admin/knowledge/knowledgesource/{source.pk}/change/").status_code == 302  # "doesn't exist"
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        client.post("/admin/knowledge/knowledgesource/", data, follow=True)
    assert callbacks == [] and small_site.requests == [] and not Document.objects.exists()
    # its own owner can
    client.force_login(owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/admin/knowledge/knowledgesource/", data, follow=True)
    assert "Sync queued for 1 URL sources." in response.content.decode()
    source.refresh_from_db()
    assert source.documents.count() == 2 and source.last_synced_at is not None


def test_admin_adds_a_website_source_that_syncs_after_commit_as_the_console_and_the_api_do(
    client, owner, outsider, tenant, small_site, django_capture_on_commit_callbacks
):
    config = f'{{"start_url": "{small_site.url}/"}}'
    form = {"tenant": tenant.pk, "name": "Website", "kind": SourceKind.URL, "config": config}
    # given another tenant's staff, who cannot add a source to the tenant
    client.force_login(outsider)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        refused = client.post("/admin/knowledge/knowledgesource/add/", form)
    assert refused.status_code == 200 and "tenant" in refused.context["adminform"].form.errors
    assert callbacks == [] and small_site.requests == [] and not KnowledgeSource.objects.exists()
    # when the tenant's owner adds a website source in the admin
    client.force_login(owner)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post("/admin/knowledge/knowledgesource/add/", form, follow=True)
    # then its first sync is queued after commit (as url_source_create queues it), says so, and reads the site
    assert response.status_code == 200 and len(callbacks) == 1
    assert f"Added Website: {FIRST_SYNC_QUEUED}" in response.content.decode()
    source = KnowledgeSource.objects.get(tenant=tenant)
    assert source.status == SourceStatus.IDLE and source.last_synced_at is not None
    assert {d.title for d in source.documents.all()} == {"Welcome", "Parking"}


def test_admin_settings_change_is_used_by_the_next_sync_as_in_the_console(
    client, owner, tenant, small_site, django_capture_on_commit_callbacks
):
    # given a website source
    source = _source(tenant, small_site)
    client.force_login(owner)
    # when its start URL is changed in the admin
    changed = {"name": "Website", "config": f'{{"start_url": "{small_site.url}/parking"}}'}
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(f"/admin/knowledge/knowledgesource/{source.pk}/change/", changed, follow=True)
    # then, as the console's settings form without "Sync now", nothing is fetched now, and the page says
    # the next sync uses them
    assert response.status_code == 200 and callbacks == [] and small_site.requests == []
    assert f"Saved the settings of Website; {NEXT_SYNC_USES_SETTINGS}" in response.content.decode()
    source.refresh_from_db()
    assert source.config["start_url"] == f"{small_site.url}/parking"


def test_sync_sources_command(tenant, other_tenant, small_site, capsys):
    # given
    _source(tenant, small_site)
    _source(other_tenant, small_site, name="Theirs")
    # when
    call_command("sync_sources", "--tenant", tenant.slug, "--source", "Website")
    # then
    out = capsys.readouterr().out
    assert f"Website: syncing {small_site.url}/" in out
    assert "Website: 2 pages: 2 created, 0 updated, 0 unchanged, 0 failed, 0 not_modified, 0 removed" in out
    assert Document.objects.filter(tenant=other_tenant).count() == 0
    # when run again, then every page answers 304
    call_command("sync_sources", "--tenant", tenant.slug)
    assert "0 created, 0 updated, 0 unchanged, 0 failed, 2 not_modified" in capsys.readouterr().out


def test_sync_sources_command_reports_failures_and_unknown_names(tenant, other_tenant, small_site, capsys):
    _source(other_tenant, small_site, name="Theirs")
    with pytest.raises(CommandError, match="no URL source named 'Theirs'"):
        call_command("sync_sources", "--tenant", tenant.slug, "--source", "Theirs")
    # a name that is not UTF-8 on the command line (a Latin-1 shell: surrogate escapes) names no source either
    with pytest.raises(CommandError, match=r"no URL source named 'Caf\\udce9'"):
        call_command("sync_sources", "--tenant", tenant.slug, "--source", "Caf\udce9")
    with pytest.raises(CommandError, match="No tenant"):
        call_command("sync_sources", "--tenant", "nope")
    small_site.pages["/"].status = 500
    _source(tenant, small_site)
    with pytest.raises(CommandError, match="1 of 1 source did not sync cleanly"):
        call_command("sync_sources", "--tenant", tenant.slug)
    assert "the start page could not be read" in capsys.readouterr().err


def test_ctrl_c_on_sync_sources_stops_with_a_message_and_frees_the_source(tenant, small_site, monkeypatch):
    # given a sync that is interrupted while it fetches a page
    source = _source(tenant, small_site)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("knowledge.crawling.Crawler.get_html", interrupted)
    # when
    with pytest.raises(CommandError, match="Website: The sync was interrupted before it finished") as stopped:
        call_command("sync_sources", "--tenant", tenant.slug)
    # then the command ends as a shell ends an interrupted process, and the source says what happened
    assert stopped.value.returncode == 130
    source.refresh_from_db()
    assert (source.status, source.error, source.sync_started_at) == (SourceStatus.FAILED, INTERRUPTED, None)


def test_beat_task_syncs_only_sources_whose_interval_has_passed(tenant, other_tenant, small_site):
    # given
    now = timezone.now()
    due = url_source_create(
        tenant=tenant,
        name="Due",
        config={"start_url": f"{small_site.url}/", "sync_interval_minutes": 60},
        sync_now=False,
    )
    fresh = url_source_create(
        tenant=other_tenant,
        name="Fresh",
        config={"start_url": f"{small_site.url}/", "sync_interval_minutes": 60},
        sync_now=False,
    )
    manual = url_source_create(
        tenant=tenant,
        name="Manual",
        config={"start_url": f"{small_site.url}/", "sync_interval_minutes": 0},
        sync_now=False,
    )
    KnowledgeSource.objects.filter(pk=due.pk).update(last_synced_at=now - timedelta(minutes=61))
    KnowledgeSource.objects.filter(pk__in=[fresh.pk, manual.pk]).update(last_synced_at=now - timedelta(minutes=5))
    # when (Celery is eager in tests: the queued sync runs here)
    queued = tasks.sync_due_sources()
    # then
    assert queued == 1
    assert due.documents.count() == 2 and not fresh.documents.exists() and not manual.documents.exists()


def test_beat_runs_that_queue_a_due_source_while_the_workers_are_busy_sync_it_once(
    tenant, other_tenant, small_site, monkeypatch
):
    # given a source of each tenant due for its hourly sync, and workers too busy to take the
    # tasks beat queues every five minutes
    sources = [
        url_source_create(
            tenant=each,
            name="Due",
            config={"start_url": f"{small_site.url}/", "sync_interval_minutes": 60},
            sync_now=False,
        )
        for each in (tenant, other_tenant)
    ]
    KnowledgeSource.objects.update(last_synced_at=timezone.now() - timedelta(minutes=61))
    queued: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
    run = tasks.sync_source.delay
    monkeypatch.setattr(tasks.sync_source, "delay", lambda *args, **kwargs: queued.append((args, kwargs)))
    for _ in range(3):
        tasks.sync_due_sources()
    assert len(queued) == 6
    # when the workers get to the queued tasks
    for args, kwargs in queued:
        run(*args, **kwargs)
    # then each source was synced once, not once for every beat run
    assert small_site.served("/") == [200, 200]
    assert [source.documents.count() for source in sources] == [2, 2]


@pytest.mark.parametrize("allow_private", [False, True])
@pytest.mark.parametrize(
    ("key", "url", "host"),
    [
        ("start_url", "https://help..example.com/", "help..example.com"),
        ("sitemap_url", f"https://{'a' * 64}.example.com/sitemap.xml", f"{'a' * 64}.example.com"),
    ],
)
def test_a_host_name_that_cannot_be_looked_up_is_a_plain_error_in_the_api_and_the_console(
    client, owner, tenant, monkeypatch, allow_private, key, url, host
):
    # given the production default (the pre-flight DNS check runs) or private hosts allowed (it does not)
    monkeypatch.setattr(conf, "SETTINGS", dataclasses.replace(conf.SETTINGS, crawl_allow_private=allow_private))
    assert "not a valid host name" in BAD_HOST
    # when created through the API, or added or set on an existing source in the console
    # then each is refused on the field and nothing is stored
    _refused_on_the_field_everywhere(
        client, owner, tenant, key=key, url=url, said=lambda field: BAD_HOST.format(key=field, host=host)
    )


# What the console's source form calls the settings (the API names them by key).
LABELS = {"start_url": "Start URL", "sitemap_url": "Sitemap URL"}


def _refused_on_the_field_everywhere(
    client, owner, tenant, *, key: str, url: str, said: Callable[[str], str]
) -> list[str]:
    """Post ``url`` as ``key`` through the API, the console's new-source form and an existing
    source's settings; assert each refuses it on the field with what ``said`` says of the field (by
    its key in the API, by its label in the console) and nothing is stored. Returns the bodies of
    the three answers."""
    response = api_client(tenant).post("/api/v1/knowledge/sources/", {"name": "W", key: url}, format="json")
    assert response.status_code == 400 and response.json() == {key: [said(key)]}
    message = said(LABELS[key])
    bodies = [response.content.decode()]
    client.force_login(owner)
    response = client.post("/console/knowledge/sources/new/", {"name": "W", key: url})
    assert response.status_code == 200 and response.context["form"].errors == {key: [message]}
    bodies.append(response.content.decode())
    source = url_source_create(
        tenant=tenant, name="Site", config={"start_url": "https://help.example.com/"}, sync_now=False
    )
    saved = dict(source.config)
    response = client.post(f"/console/knowledge/sources/{source.pk}/edit/", {"name": "Site", "start_url": "", key: url})
    assert response.status_code == 200 and response.context["form"].errors == {key: [message]}
    bodies.append(response.content.decode())
    source.refresh_from_db()
    assert source.config == saved and KnowledgeSource.objects.count() == 1
    return bodies


@pytest.mark.parametrize(
    ("key", "url"),
    [
        ("start_url", "https://editor:s3cret@help.example.com/"),
        ("start_url", "https://s3cret@help.example.com/"),
        ("start_url", "https:\\\\editor:s3cret@help.example.com/"),  # backslashes read as slashes
        ("sitemap_url", "https://:s3cret@help.example.com/sitemap.xml"),
    ],
)
def test_a_url_with_a_user_name_or_password_is_refused_in_the_api_and_the_console(client, owner, tenant, key, url):
    # when created through the API, or added or set on an existing source in the console
    api_body, *_ = _refused_on_the_field_everywhere(
        client, owner, tenant, key=key, url=url, said=lambda field: CREDENTIALS_IN_URL.format(key=field)
    )
    # then each is refused on the field, nothing with the secret is stored, and the API does not repeat it
    assert "s3cret" not in api_body


def test_an_empty_user_name_is_no_credential(tenant):
    # "https://@host/" names no user: browsers and the crawler read it as "https://host/"
    source = url_source_create(
        tenant=tenant, name="Site", config={"start_url": "https://@help.example.com/"}, sync_now=False
    )
    assert source.config["start_url"] == "https://help.example.com/"
    with pytest.raises(SourceConfigError) as refused:
        url_source_create(
            tenant=tenant, name="Other", config={"start_url": "https://a:b@help.example.com/"}, sync_now=False
        )
    assert refused.value.field == "start_url"


def test_source_sync_enqueue_refuses_another_tenants_source(
    tenant, other_tenant, small_site, django_capture_on_commit_callbacks
):
    # given
    source = _source(tenant, small_site)
    # when another tenant asks for its sync
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(ValueError, match="another tenant"),
    ):
        source_sync_enqueue(tenant=other_tenant, source=source)
    # then nothing is queued or fetched
    assert callbacks == [] and small_site.requests == [] and not Document.objects.exists()
    # while its own tenant may
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        source_sync_enqueue(tenant=tenant, source=source)
    assert len(callbacks) == 1 and source.documents.count() == 2


@pytest.mark.django_db(transaction=True)
def test_api_sync_run_eagerly_that_breaks_answers_202_and_the_source_says_it_failed(tenant, small_site, monkeypatch):
    # given Celery run eagerly (no REDIS_URL: the queued sync runs in the request, after commit) and
    # a sync that breaks on something other than a page
    source = _source(tenant, small_site)

    def broken(self):
        raise RuntimeError("server closed the connection unexpectedly")

    monkeypatch.setattr(site_sync.SiteSync, "run", broken)
    client = api_client(tenant)
    # when a sync is asked for, on its own or with a new source
    synced = client.post(f"/api/v1/knowledge/sources/{source.pk}/sync/")
    created = client.post("/api/v1/knowledge/sources/", {"name": "New", "start_url": f"{small_site.url}/"})
    # then the requests are answered, not turned into 500s, and each source shows the failure
    assert (synced.status_code, synced.json()) == (202, {"id": source.pk, "queued": True})
    assert created.status_code == 201
    for pk in (source.pk, created.json()["id"]):
        detail = client.get(f"/api/v1/knowledge/sources/{pk}/").json()
        assert (detail["status"], detail["error"]) == ("failed", INTERNAL_ERROR)
