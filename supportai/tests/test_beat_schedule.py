"""Celery beat's schedule (``CELERY_BEAT_SCHEDULE``): every entry names a task the workers know, and
each runs through, by its name as beat sends it, on an empty database and on one with two tenants."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.utils import timezone

from chat.models import Message
from chat.services import conversation_open, message_receive, reply_abandoned_after
from chat.tests.conftest import reply_left_streaming
from knowledge import conf
from knowledge.models import Document, KnowledgeSource, SourceKind
from knowledge.parsed import ParsedDocument
from knowledge.services import document_upsert, source_get_or_create
from knowledge.source_config import url_source_create
from routing.models import CostEvent, CostSummary
from supportai.celery import app
from supportai.models import Tenant

pytestmark = pytest.mark.django_db

SCHEDULE = settings.CELERY_BEAT_SCHEDULE


def _run(entry: str) -> object:
    """The scheduled task run as a worker runs beat's message: by name, with the entry's arguments."""
    app.loader.import_default_modules()
    task = SCHEDULE[entry]
    result = app.tasks[task["task"]].apply(args=task.get("args", ()), kwargs=task.get("kwargs", {}))
    assert result.successful(), result.traceback
    return result.get()


def _busy(tenant: Tenant) -> None:
    """What each beat task has to do for ``tenant``: a document whose indexing task was lost, a reply a
    dead server left streaming, a URL source due (on a port nobody listens on), yesterday's spend."""
    source = source_get_or_create(tenant=tenant, name="API uploads")
    parsed = ParsedDocument("parking.md", "Parking", "Free parking behind the studio.")
    document, _ = document_upsert(tenant=tenant, source=source, parsed=parsed, model="fake")
    lost = timezone.now() - timedelta(minutes=conf.SETTINGS.stuck_pending_minutes + 5)
    Document.objects.filter(pk=document.pk).update(updated_at=lost, queued_at=lost)
    conversation = conversation_open(tenant=tenant).conversation
    question = message_receive(tenant=tenant, conversation=conversation, client_id="q1", text="Hi").message
    reply_left_streaming(tenant, question, age=reply_abandoned_after() + timedelta(seconds=1))
    url_source_create(tenant=tenant, name="Website", config={"start_url": "http://127.0.0.1:1/"}, sync_now=False)
    CostEvent.objects.create(
        tenant=tenant,
        created_at=timezone.now() - timedelta(days=1),
        provider="openai",
        model="gpt-4o-mini",
        tier=2,
        outcome="success",
        cost_usd=Decimal("0.01"),
    )


def test_the_beat_schedule_names_only_tasks_the_workers_know() -> None:
    app.loader.import_default_modules()
    unknown = {entry: task["task"] for entry, task in SCHEDULE.items() if task["task"] not in app.tasks}
    assert SCHEDULE and unknown == {}


@pytest.mark.parametrize("entry", SCHEDULE)
def test_each_beat_task_runs_on_an_empty_database(entry: str) -> None:
    assert not Tenant.objects.exists()
    _run(entry)


def _state(tenant: Tenant) -> dict[str, object]:
    """What the beat tasks change of ``tenant``'s rows."""
    return {
        "documents": sorted(Document.objects.for_tenant(tenant).values_list("status", flat=True)),
        "replies": sorted(Message.objects.filter(tenant=tenant, role="assistant").values_list("status", flat=True)),
        "sources": sorted(
            KnowledgeSource.objects.for_tenant(tenant).filter(kind=SourceKind.URL).values_list("status", flat=True)
        ),
        "summary_calls": sum(CostSummary.objects.filter(tenant=tenant).values_list("calls", flat=True)),
    }


BEFORE = {"documents": ["pending"], "replies": ["streaming"], "sources": ["idle"], "summary_calls": 0}
# What each entry changes of a tenant's rows (the others change nothing here).
CHANGES: dict[str, dict[str, object]] = {
    "routing-cost-rollup": {"summary_calls": 1},
    "chat-finish-abandoned-replies": {"replies": ["interrupted"]},
    "knowledge-sync-due-sources": {"sources": ["failed"]},
    "knowledge-sweep-stuck-documents": {"documents": ["ready"]},
}


@pytest.mark.parametrize("entry", SCHEDULE)
def test_each_beat_task_runs_for_two_tenants_and_again(
    entry: str, tenant: Tenant, other_tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(  # a URL source on this machine, refused at once
        conf, "SETTINGS", dataclasses.replace(conf.SETTINGS, crawl_allow_private=True, crawl_timeout_s=1)
    )
    # given two tenants with work for every beat task
    _busy(tenant)
    _busy(other_tenant)
    assert _state(tenant) == _state(other_tenant) == BEFORE
    # when beat sends the task, and sends it again before anything changed
    _run(entry)
    _run(entry)
    # then it ran through both times and did each tenant's work once, on that tenant's rows alone
    assert _state(tenant) == _state(other_tenant) == {**BEFORE, **CHANGES.get(entry, {})}
