"""Property: any form a staff member posts to the console is answered without a 5xx or a traceback,
and changes nothing of another tenant's.

Each console form (every console route ``test_url_tenancy.ROUTES`` walks that takes a POST: a staff
booking, cancel, reschedule, a payment at the desk, a no-show and its undo, an email sent again, a
service, an opening rule or blackout added or removed, inbox actions, a website source added, edited,
synced or deleted, a document deleted or re-indexed, the tenant switch; a route added is in) gets
generated fields: its own names and others, values of any text (NUL, half surrogate pairs), numbers
of any size, dates of every year, ids of this tenant's objects and the other's. The knowledge upload
gets files of any names and bytes. The answer is the page with form errors, a redirect, or a 4xx;
never a 500.
"""

from __future__ import annotations

import dataclasses
import itertools
from typing import Any
from urllib.parse import quote

import pytest
from django.contrib.auth.models import User
from django.test import Client
from hypothesis import given, settings
from hypothesis import strategies as st

from bookings.models import AvailabilityRule, BlackoutDate, Booking, BookingEmail, EmailStatus, Service
from escalations.models import Escalation
from knowledge import conf
from knowledge.models import Document, KnowledgeSource
from supportai.models import Tenant
from supportai.tests.input_strategies import PROPERTY_SETTINGS, TEXT, assert_no_traceback_logged
from supportai.tests.tenant_objects import objects_of
from supportai.tests.test_url_tenancy import POST, ROUTES

FIELDS = ["service", "date", "time", "name", "email", "notes", "payment", "reason", "description"]
FIELDS += ["duration_minutes", "buffer_minutes", "slot_step_minutes", "price", "currency", "active"]
FIELDS += ["weekday", "start_time", "end_time", "capacity", "text", "user_id", "tenant_id", "next"]
FIELDS += ["start_url", "sitemap_url", "path_prefix", "max_pages", "max_depth", "sync_interval_minutes"]
FIELDS += ["name", "sync_now", "tenant"]
EDGE_VALUES = ["0001-01-01", "9999-12-31", "2026-02-30", "24:00", "23:59", "-1", "0", "99999999999999999999"]
EDGE_VALUES += ["9" * 400, "eur", "on", "link", "offline", "https://alpha.example.com/", "//evil.example/"]
EDGE_VALUES += ["x" * 100_000, "https://example.com/" + "a" * 100_000]  # over every column and field length


def _encoded(text: str) -> str:
    return quote(text.encode("utf-8", "surrogatepass"))


@pytest.fixture
def world(owner: User, tenant: Tenant, other_tenant: Tenant, outsider: User) -> dict[str, Any]:
    """Each tenant's objects of every kind a console route names (``tenant_objects``; a booking email
    of each failed, so it may be sent again): their ids by kind, this tenant's first; the ids a
    generated form may name."""
    ids: dict[str, Any] = {"users": [owner.pk, outsider.pk], "tenants": [tenant.pk, other_tenant.pk]}
    for each in (tenant, other_tenant):
        objects = objects_of(each, each.slug)
        BookingEmail.objects.filter(pk=objects["email"]).update(status=EmailStatus.FAILED)
        for kind, pk in objects.items():
            ids.setdefault(kind, []).append(pk)
    return ids


def _paths(world: dict[str, Any]) -> list[str]:
    """Every console form's URL (each console route ``test_url_tenancy`` walks that takes a POST), those
    naming objects with each tenant's and mixes of both."""
    paths = []
    for name, route in ROUTES.items():
        if ":" in name and POST in route.writes:  # the console's routes are namespaced
            kinds = list(route.objects.items())
            for owners in itertools.product((0, 1), repeat=len(kinds)):
                kwargs = {parameter: world[kind][at] for (parameter, kind), at in zip(kinds, owners, strict=True)}
                paths.append(route.path(name, kwargs))
    return paths


@pytest.mark.django_db  # in the test's transaction: a new source's sync (queued on commit) never runs
def test_console_forms_answer_any_fields_without_a_5xx(
    owner: User, world: dict[str, Any], other_tenant: Tenant, caplog: pytest.LogCaptureFixture
) -> None:
    client = Client()
    client.force_login(owner)
    real = st.sampled_from([str(pk) for pks in world.values() for pk in pks])
    values = st.one_of(real, st.sampled_from(EDGE_VALUES), TEXT, st.integers().map(str), st.dates().map(str))
    others_before = _state_of(other_tenant)

    @given(
        path=st.sampled_from(_paths(world)), form=st.dictionaries(st.sampled_from(FIELDS) | TEXT, values, max_size=8)
    )
    @settings(PROPERTY_SETTINGS, max_examples=300)
    def any_form(path: str, form: dict[str, str]) -> None:
        caplog.clear()
        # urlencoded as a browser sends it; half a surrogate pair as the bytes a client would send
        body = "&".join(f"{_encoded(name)}={_encoded(value)}" for name, value in form.items())
        response = client.post(path, body, content_type="application/x-www-form-urlencoded")
        assert response.status_code in (200, 302, 400, 403, 404), response.status_code
        assert_no_traceback_logged(caplog)

    any_form()
    # then the other tenant's bookings, emails, catalog, knowledge and handoffs are as they were
    assert _state_of(other_tenant) == others_before
    assert not Escalation.objects.filter(tenant=other_tenant).exclude(assigned_to=None).exists()


def _state_of(tenant: Tenant) -> list[object]:
    """What no form posted in another tenant's console may change."""
    return [
        list(Booking.objects.filter(tenant=tenant).order_by("pk").values_list("status", "paid_at", "start_at")),
        list(BookingEmail.objects.filter(tenant=tenant).order_by("pk").values_list("status", "attempts")),
        list(Service.objects.filter(tenant=tenant).order_by("pk").values_list("name", "price_cents", "active")),
        AvailabilityRule.objects.filter(tenant=tenant).count(),
        BlackoutDate.objects.filter(tenant=tenant).count(),
        list(KnowledgeSource.objects.filter(tenant=tenant).order_by("pk").values_list("name", "config")),
        list(Document.objects.filter(tenant=tenant).order_by("pk").values_list("status", "queued_at")),
    ]


def _multipart(files: list[tuple[bytes, bytes]], language: bytes) -> bytes:
    """A multipart body as a client may send it: file names of any bytes, contents of any bytes."""
    parts = [b'Content-Disposition: form-data; name="language"\r\n\r\n' + language]
    for name, content in files:
        disposition = b'Content-Disposition: form-data; name="upload"; filename="' + name + b'"\r\n'
        parts.append(disposition + b"Content-Type: application/octet-stream\r\n\r\n" + content)
    return b"".join(b"--" + BOUNDARY + b"\r\n" + part + b"\r\n" for part in parts) + b"--" + BOUNDARY + b"--\r\n"


BOUNDARY = b"propertyboundary"
FILE_NAMES = st.one_of(
    st.sampled_from([b"faq.md", b"a.txt", b"page.html", b"doc.pdf", b"faq.csv", b"corpus.jsonl", b".md", b"x" * 300]),
    TEXT.map(lambda name: name.replace('"', "").encode("utf-8", "surrogatepass") + b".md"),
    st.binary(max_size=30).filter(lambda name: b'"' not in name and b"\r" not in name and b"\n" not in name),
)
CONTENTS = st.one_of(
    st.binary(max_size=300),
    TEXT.map(lambda text: text.encode("utf-8", "surrogatepass")),
    st.sampled_from([b"question,answer\n\x00,\xff\n", b'{"_id": "1", "text": "\\ud800"}\n', b"%PDF-1.4\n%%EOF"]),
)


@pytest.mark.django_db
def test_a_knowledge_upload_of_any_files_is_answered_without_a_5xx(
    owner: User, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(
        conf, "SETTINGS", dataclasses.replace(conf.SETTINGS, embedding_provider="fake", rerank_provider="")
    )
    client = Client()
    client.force_login(owner)

    @given(files=st.lists(st.tuples(FILE_NAMES, CONTENTS), max_size=3), language=st.sampled_from([b"", b"en", b"xx"]))
    @settings(PROPERTY_SETTINGS, max_examples=80)
    def any_files(files: list[tuple[bytes, bytes]], language: bytes) -> None:
        caplog.clear()
        content_type = f"multipart/form-data; boundary={BOUNDARY.decode()}"
        response = client.post("/console/knowledge/", _multipart(files, language), content_type=content_type)
        assert response.status_code in (200, 302, 400), response.status_code
        assert_no_traceback_logged(caplog)

    any_files()
