"""``POST /api/v1/public/chat/proposals/confirm`` and ``…/reject``: proposal decisions without websockets."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from django.test import Client

from bookings import proposals
from bookings.models import Booking, BookingStatus, Proposal, ProposalStatus, Service
from bookings.tests.conftest import local, next_weekday
from bookings.widget import handle_proposal_decision
from chat import limits
from chat.protocol import MAX_FRAME_BYTES
from chat.services import OpenedConversation, conversation_open
from chat.tests.http_bodies import utf8_body
from chat.tests.urls_under_test import CONFIRM, REJECT
from supportai.models import Tenant

USE_POST = "Use POST."  # the 405's message, without Accept-Language
BODY_TOO_LONG = "The request body is limited to 16,384 bytes of UTF-8, like a websocket frame."

pytestmark = pytest.mark.django_db
ORIGIN = "https://alpha.example.com"


def post(path: str, body: dict[str, Any] | str | bytes, origin: str = ORIGIN) -> tuple[int, dict[str, Any]]:
    raw = body if isinstance(body, str | bytes) else json.dumps(body)
    response = Client().post(path, raw, content_type="application/json", headers={"origin": origin})
    return response.status_code, json.loads(response.content)


def propose(tenant: Tenant, opened: OpenedConversation, service: Service, hour: int = 10) -> Proposal:
    return proposals.booking_propose_book(
        tenant=tenant,
        conversation=opened.conversation,
        service_id=service.pk,
        start=local(tenant, next_weekday(2), hour),
        name="Ann Lee",
        email="ann@example.org",
    )


@pytest.fixture
def opened(tenant: Tenant) -> OpenedConversation:
    return conversation_open(tenant=tenant, origin=ORIGIN, channel="api")


def test_confirm_executes_and_answers_the_websockets_proposal_result(
    tenant: Tenant, service: Service, opened: OpenedConversation
) -> None:
    # given an open proposal of the conversation
    proposal = propose(tenant, opened, service)
    body = {"key": tenant.public_key, "resume_token": opened.resume_token, "proposal_id": str(proposal.public_id)}
    # when the customer confirms it over HTTP
    response = Client().post(CONFIRM, json.dumps(body), content_type="application/json", headers={"origin": ORIGIN})
    # then the booking is made and the answer is the websocket's proposal.result frame
    frame = response.json()
    assert response.status_code == 200 and response["Access-Control-Allow-Origin"] == ORIGIN
    assert frame["type"] == "proposal.result" and frame["status"] == "executed" and frame["action"] == "book"
    booking = Booking.objects.get(confirmation_code=frame["confirmation_code"])
    assert booking.status == BookingStatus.CONFIRMED and booking.conversation_id == opened.conversation.pk
    same_over_websocket = handle_proposal_decision(
        tenant=tenant, conversation=opened.conversation, proposal_id=str(proposal.public_id), confirm=True
    )
    assert frame == same_over_websocket
    # and confirming again repeats the first result without booking twice
    assert post(CONFIRM, body) == (200, frame)
    assert Booking.objects.count() == 1


def test_reject_changes_nothing(tenant: Tenant, service: Service, opened: OpenedConversation) -> None:
    proposal = propose(tenant, opened, service)
    body = {"key": tenant.public_key, "resume_token": opened.resume_token, "proposal_id": str(proposal.public_id)}
    status, frame = post(REJECT, body)
    assert status == 200 and (frame["type"], frame["status"]) == ("proposal.result", "rejected")
    assert frame["proposal_id"] == str(proposal.public_id) and frame["message"] == "Okay, nothing was changed."
    assert not Booking.objects.exists()
    # a rejected proposal can no longer be confirmed
    assert post(CONFIRM, body)[1]["status"] == "rejected" and not Booking.objects.exists()


def test_a_proposal_of_another_conversation_or_tenant_is_not_found(
    tenant: Tenant, other_tenant: Tenant, service: Service, other_service: Service, opened: OpenedConversation
) -> None:
    # given a proposal of this tenant's conversation and one of the other tenant's
    proposal = propose(tenant, opened, service)
    foreign_opened = conversation_open(tenant=other_tenant, origin="https://bravo.example.com")
    foreign_proposal = propose(other_tenant, foreign_opened, other_service)
    same_tenant = conversation_open(tenant=tenant, origin=ORIGIN)
    mine, theirs = str(proposal.public_id), str(foreign_proposal.public_id)
    attempts = [
        # another conversation of the same tenant
        ({"key": tenant.public_key, "resume_token": same_tenant.resume_token, "proposal_id": mine}, ORIGIN),
        # the other tenant's key and conversation
        (
            {"key": other_tenant.public_key, "resume_token": foreign_opened.resume_token, "proposal_id": mine},
            "https://bravo.example.com",
        ),
        # this tenant's key with the other tenant's resume token
        ({"key": tenant.public_key, "resume_token": foreign_opened.resume_token, "proposal_id": mine}, ORIGIN),
        # the other tenant's proposal from this conversation
        ({"key": tenant.public_key, "resume_token": opened.resume_token, "proposal_id": theirs}, ORIGIN),
        # unknown and malformed ids, no resume token
        ({"key": tenant.public_key, "resume_token": opened.resume_token, "proposal_id": str(uuid.uuid4())}, ORIGIN),
        ({"key": tenant.public_key, "resume_token": opened.resume_token, "proposal_id": "not-a-uuid"}, ORIGIN),
        ({"key": tenant.public_key, "proposal_id": mine}, ORIGIN),
    ]
    for path in (CONFIRM, REJECT):
        for body, origin in attempts:
            # when someone other than the owning conversation decides
            status, error = post(path, body, origin=origin)
            # then the answer is a plain not_found and nothing changes
            assert (status, error["type"], error["code"]) == (404, "error", "not_found"), (path, body)
    assert not Booking.objects.exists()
    assert set(Proposal.objects.values_list("status", flat=True)) == {ProposalStatus.PENDING}


@pytest.mark.parametrize(
    ("raw", "status", "code"),
    [
        ("not json", 400, "bad_request"),
        ("[1, 2]", 400, "bad_request"),
        ('{"key": "pk_unknown", "resume_token": "x", "proposal_id": "y"}', 404, "not_found"),
        ('{"resume_token": "x", "proposal_id": "y"}', 404, "not_found"),
        ('"x"', 400, "bad_request"),
        pytest.param('{"key": "pk_x", "proposal_id": "y"}'.encode("utf-16"), 400, "bad_request", id="utf-16"),
    ],
)
def test_malformed_bodies_and_unknown_keys_get_the_protocols_errors(
    tenant: Tenant, raw: str | bytes, status: int, code: str
) -> None:
    got_status, error = post(CONFIRM, raw)
    assert (got_status, error["type"], error["code"]) == (status, "error", code)


def test_the_body_is_measured_as_received_like_a_frame(
    tenant: Tenant, service: Service, opened: OpenedConversation
) -> None:
    # given bodies of exactly the frame limit and one byte over it once UTF-8 encoded as sent
    proposal = propose(tenant, opened, service)
    fields = {"key": tenant.public_key, "resume_token": opened.resume_token, "proposal_id": str(proposal.public_id)}
    # when
    over = Client().post(REJECT, utf8_body(fields, MAX_FRAME_BYTES + 1), "application/json")
    within = Client().post(REJECT, utf8_body(fields, MAX_FRAME_BYTES), "application/json")
    # then the websocket's limit applies to the bytes sent, not to an ASCII-escaped copy
    assert (over.status_code, over.json()["code"]) == (413, "too_long")
    assert (within.status_code, within.json()["status"]) == (200, "rejected")


@pytest.mark.parametrize("path", [CONFIRM, REJECT])
def test_a_body_far_over_the_frame_limit_gets_the_protocols_error(
    tenant: Tenant, service: Service, opened: OpenedConversation, path: str
) -> None:
    proposal = propose(tenant, opened, service)
    fields = {"key": tenant.public_key, "resume_token": opened.resume_token, "proposal_id": str(proposal.public_id)}
    response = Client().post(path, utf8_body(fields, 3_000_000), "application/json", headers={"origin": ORIGIN})
    assert response.status_code == 413 and response["Access-Control-Allow-Origin"] == ORIGIN
    assert response.json() == {"type": "error", "code": "too_long", "message": BODY_TOO_LONG}
    assert Proposal.objects.get().status == ProposalStatus.PENDING and not Booking.objects.exists()


@pytest.mark.parametrize(
    ("proposal_id", "status", "code"),
    [(None, 400, "bad_request"), (7, 400, "bad_request"), ("", 400, "bad_request"), ("x" * 65, 413, "too_long")],
)
def test_proposal_id_is_validated_like_the_frame(
    tenant: Tenant, opened: OpenedConversation, proposal_id: Any, status: int, code: str
) -> None:
    body = {"key": tenant.public_key, "resume_token": opened.resume_token}
    if proposal_id is not None:
        body["proposal_id"] = proposal_id
    got_status, error = post(REJECT, body)
    assert (got_status, error["code"]) == (status, code)


def test_foreign_origin_is_forbidden(tenant: Tenant, service: Service, opened: OpenedConversation) -> None:
    proposal = propose(tenant, opened, service)
    body = {"key": tenant.public_key, "resume_token": opened.resume_token, "proposal_id": str(proposal.public_id)}
    status, error = post(CONFIRM, body, origin="https://evil.example.net")
    assert (status, error["code"]) == (403, "forbidden")
    assert Proposal.objects.get().status == ProposalStatus.PENDING


def test_decisions_count_against_the_per_ip_limit(
    tenant: Tenant, service: Service, opened: OpenedConversation, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.CHAT_MESSAGES_PER_MINUTE_PER_IP = 2
    monkeypatch.setattr(limits, "wall_clock", lambda: 1_800_000_010.0)  # all three posts in one minute bucket
    proposal = propose(tenant, opened, service)
    body = {"key": tenant.public_key, "resume_token": opened.resume_token, "proposal_id": str(proposal.public_id)}
    assert [post(REJECT, body)[0] for _ in range(2)] == [200, 200]
    status, error = post(REJECT, body)
    assert (status, error["code"]) == (429, "rate_limited")


def test_preflight_allows_post(tenant: Tenant) -> None:
    preflight = Client().options(CONFIRM, headers={"origin": ORIGIN})
    assert preflight.status_code == 204 and preflight["Access-Control-Allow-Origin"] == ORIGIN
    assert "POST" in preflight["Access-Control-Allow-Methods"]


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "TRACE"])
def test_a_method_other_than_post_is_not_allowed(method: str) -> None:
    response = Client().generic(method, REJECT, headers={"origin": ORIGIN})
    assert (response.status_code, response["Allow"]) == (405, "POST, OPTIONS")
    assert response["Access-Control-Allow-Origin"] == ORIGIN
    assert response.json() == {"type": "error", "code": "bad_request", "message": USE_POST}


def test_openapi_schema_describes_both_endpoints_without_auth() -> None:
    schema = Client().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    for path, operation_id in ((CONFIRM, "public_chat_proposal_confirm"), (REJECT, "public_chat_proposal_reject")):
        operation = schema["paths"][path]["post"]
        assert operation["operationId"] == operation_id and "security" not in operation
        assert set(operation["responses"]) == {"200", "400", "403", "404", "413", "429", "503"}
    result = schema["components"]["schemas"]["ProposalResult"]
    assert set(result["required"]) == {"type", "proposal_id", "status", "action"}


@pytest.mark.parametrize("resume_token", ['"\\ud800"', "5"], ids=["lone surrogate", "number"])
def test_a_resume_token_that_is_not_text_is_a_bad_request(
    tenant: Tenant, service: Service, opened: OpenedConversation, resume_token: str
) -> None:
    # given a live proposal
    proposal = propose(tenant, opened, service)
    # when the decision's resume token is not text
    raw = f'{{"key": "{tenant.public_key}", "resume_token": {resume_token}, "proposal_id": "{proposal.public_id}"}}'
    status, error = post(CONFIRM, raw)
    # then it is refused like the frame's field, and the proposal is untouched
    assert (status, error["code"]) == (400, "bad_request")
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.PENDING


@pytest.mark.parametrize("path", [CONFIRM, REJECT])
@pytest.mark.parametrize(
    ("accept", "query"),
    [("text/html", ""), ("application/xml", ""), ("", "?format=xml")],
)
def test_a_client_asking_for_another_format_gets_the_protocols_answers(
    tenant: Tenant,
    other_tenant: Tenant,
    service: Service,
    other_service: Service,
    opened: OpenedConversation,
    path: str,
    accept: str,
    query: str,
) -> None:
    # given this conversation's proposal and one of the other tenant's
    mine = propose(tenant, opened, service)
    theirs = propose(other_tenant, conversation_open(tenant=other_tenant, origin="", channel="api"), other_service)

    def decide(proposal: Proposal) -> tuple[int, dict[str, Any]]:
        body = {"key": tenant.public_key, "resume_token": opened.resume_token, "proposal_id": str(proposal.public_id)}
        headers = {"origin": ORIGIN, **({"accept": accept} if accept else {})}
        response = Client().post(path + query, json.dumps(body), content_type="application/json", headers=headers)
        return response.status_code, json.loads(response.content)

    # when a client whose Accept (or ?format=) names no JSON decides them
    status, frame = decide(mine)
    other_status, error = decide(theirs)
    # then its own is decided and the other tenant's not found, as the protocol says (no 406 or 404 {"detail"})
    assert status == 200 and frame["type"] == "proposal.result" and frame["proposal_id"] == str(mine.public_id)
    assert other_status == 404 and error["type"] == "error" and error["code"] == "not_found"
    theirs.refresh_from_db()
    assert theirs.status == ProposalStatus.PENDING
