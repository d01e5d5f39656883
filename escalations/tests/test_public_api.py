"""``POST /api/v1/public/chat/escalate``: the button for clients without websockets."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from chat.protocol import MAX_COMMENT_CHARS, MAX_FRAME_BYTES
from chat.services import conversation_open
from chat.tests.http_bodies import utf8_body
from escalations.models import Escalation, EscalationPolicy
from supportai.models import Tenant

USE_POST = "Use POST."  # the 405's message, without Accept-Language
BODY_TOO_LONG = "The request body is limited to 16,384 bytes of UTF-8, like a websocket frame."

pytestmark = pytest.mark.django_db(transaction=True)  # the view runs its database work on the pool (supportai.db)
ORIGIN = "https://alpha.example.com"


@pytest.fixture(autouse=True)
def _clean_cache() -> None:
    cache.clear()


def post(body: dict[str, Any] | str | bytes, origin: str = ORIGIN) -> tuple[int, dict[str, Any]]:
    raw = body if isinstance(body, str | bytes) else json.dumps(body)
    response = Client().post(
        "/api/v1/public/chat/escalate", raw, content_type="application/json", headers={"origin": origin}
    )
    return response.status_code, json.loads(response.content)


def test_escalates_a_live_conversation(tenant: Tenant, always_open: EscalationPolicy) -> None:
    opened = conversation_open(tenant=tenant, origin=ORIGIN)
    body = {"key": tenant.public_key, "resume_token": opened.resume_token, "reason": "help", "email": "a@b.example"}
    status, frame = post(body)
    assert status == 200 and frame["type"] == "escalation" and frame["status"] == "pending"
    escalation = Escalation.objects.get(pk=frame["escalation_id"])
    assert escalation.conversation_id == opened.conversation.pk and escalation.contact_email == "a@b.example"


def test_the_reason_is_optional(tenant: Tenant, always_open: EscalationPolicy) -> None:
    opened = conversation_open(tenant=tenant, origin=ORIGIN)
    for body in ({}, {"reason": None}):
        status, frame = post({"key": tenant.public_key, "resume_token": opened.resume_token, **body})
        assert status == 200 and frame["type"] == "escalation", frame
    assert Escalation.objects.get().reason == ""


def test_refuses_a_malformed_phone_with_the_field(tenant: Tenant, always_open: EscalationPolicy) -> None:
    opened = conversation_open(tenant=tenant, origin=ORIGIN)
    body = {"key": tenant.public_key, "resume_token": opened.resume_token, "reason": "help", "phone": "abc"}
    status, error = post(body)
    assert (status, error) == (
        400,
        {
            "type": "error",
            "code": "bad_request",
            "message": "'phone' must be a phone number: 7 to 15 digits, with an optional leading +.",
            "field": "phone",
        },
    )
    assert not Escalation.objects.exists()
    status, frame = post({**body, "phone": "+1 (555) 123-4567"})
    assert status == 200 and Escalation.objects.get(pk=frame["escalation_id"]).contact_phone == "+1 (555) 123-4567"


def test_refuses_without_a_live_conversation_of_that_tenant(
    tenant: Tenant, other_tenant: Tenant, always_open: EscalationPolicy
) -> None:
    foreign = conversation_open(tenant=other_tenant)
    for token in ("", "made-up", foreign.resume_token):
        status, error = post({"key": tenant.public_key, "resume_token": token, "reason": "help"})
        assert status == 404 and error["code"] == "not_found", token
    assert not Escalation.objects.exists()


def test_the_body_is_measured_as_received_like_a_frame(tenant: Tenant, always_open: EscalationPolicy) -> None:
    # given the longest reason in emoji, in bodies of exactly the frame limit and one byte over it
    opened = conversation_open(tenant=tenant, origin=ORIGIN)
    fields = {"key": tenant.public_key, "resume_token": opened.resume_token, "reason": "\U0001f198" * MAX_COMMENT_CHARS}
    # when
    over = Client().post("/api/v1/public/chat/escalate", utf8_body(fields, MAX_FRAME_BYTES + 1), "application/json")
    within = Client().post("/api/v1/public/chat/escalate", utf8_body(fields, MAX_FRAME_BYTES), "application/json")
    # then the websocket's limit applies to the bytes sent, not to an ASCII-escaped copy
    assert (over.status_code, over.json()["code"]) == (413, "too_long")
    assert within.status_code == 200, within.content
    assert Escalation.objects.get().reason == fields["reason"]


def test_a_body_far_over_the_frame_limit_gets_the_protocols_error(
    tenant: Tenant, always_open: EscalationPolicy
) -> None:
    opened = conversation_open(tenant=tenant, origin=ORIGIN)
    fields = {"key": tenant.public_key, "resume_token": opened.resume_token, "reason": "help"}
    response = Client().post(
        "/api/v1/public/chat/escalate", utf8_body(fields, 3_000_000), "application/json", headers={"origin": ORIGIN}
    )
    assert response.status_code == 413 and response["Access-Control-Allow-Origin"] == ORIGIN
    assert response.json() == {"type": "error", "code": "too_long", "message": BODY_TOO_LONG}
    assert not Escalation.objects.exists()


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ("nope", 400, "bad_request"),
        ({"key": "pk_unknown", "resume_token": "x"}, 404, "not_found"),
        ({"reason": 5}, 404, "not_found"),
        ("[1, 2]", 400, "bad_request"),
        ('"help"', 400, "bad_request"),
        pytest.param(json.dumps({"key": "pk_x", "reason": "help"}).encode("utf-16"), 400, "bad_request", id="utf-16"),
    ],
)
def test_bad_requests_get_clear_errors(body: Any, status: int, code: str) -> None:
    got_status, error = post(body)
    assert (got_status, error["code"]) == (status, code)


def test_foreign_origin_and_rate_limit(tenant: Tenant, always_open: EscalationPolicy) -> None:
    opened = conversation_open(tenant=tenant, origin=ORIGIN)
    body = {"key": tenant.public_key, "resume_token": opened.resume_token, "reason": "help"}
    assert post(body, origin="https://evil.example.net")[0] == 403
    for _ in range(3):
        assert post(body)[0] == 200
        Escalation.objects.update(status="resolved")
    status, error = post(body)
    assert status == 429 and "several times" in error["message"]


@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE", "TRACE"])
def test_a_method_other_than_post_is_not_allowed(tenant: Tenant, always_open: EscalationPolicy, method: str) -> None:
    opened = conversation_open(tenant=tenant, origin=ORIGIN)
    body = json.dumps({"key": tenant.public_key, "resume_token": opened.resume_token, "reason": "help"})
    response = Client().generic(
        method, "/api/v1/public/chat/escalate", body, content_type="application/json", headers={"origin": ORIGIN}
    )
    assert (response.status_code, response["Allow"]) == (405, "POST, OPTIONS")
    assert response["Access-Control-Allow-Origin"] == ORIGIN
    assert response.json() == {"type": "error", "code": "bad_request", "message": USE_POST}
    assert not Escalation.objects.exists()


def test_preflight_allows_post_with_json() -> None:
    response = Client().options("/api/v1/public/chat/escalate", headers={"origin": ORIGIN})
    assert (response.status_code, response["Access-Control-Allow-Origin"]) == (204, ORIGIN)
    assert (response["Access-Control-Allow-Methods"], response["Access-Control-Allow-Headers"]) == (
        "POST, OPTIONS",
        "Content-Type",
    )


@pytest.mark.parametrize("resume_token", ['"\\ud800"', "5", '["x"]'], ids=["lone surrogate", "number", "list"])
def test_a_resume_token_that_is_not_text_is_a_bad_request(
    tenant: Tenant, always_open: EscalationPolicy, resume_token: str
) -> None:
    # when the token is a half of a surrogate pair (not text) or not a string at all
    status, error = post(f'{{"key": "{tenant.public_key}", "resume_token": {resume_token}}}')
    # then it is refused as the socket refuses such a field, and nothing is raised
    assert (status, error["code"]) == (400, "bad_request")
    assert not Escalation.objects.exists()


@pytest.mark.parametrize("key", ['"\\ud800"', "5"], ids=["lone surrogate", "number"])
def test_a_widget_key_that_is_not_text_is_a_bad_request(key: str) -> None:
    status, error = post(f'{{"key": {key}, "resume_token": "x"}}')
    assert (status, error["code"]) == (400, "bad_request")
