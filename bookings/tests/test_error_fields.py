"""A refused booking request names the field that is wrong (``field``): in the websocket's and the HTTP
fallback's ``error`` frame, in a failed ``proposal.result`` and in the assistant's tool result. An
ownership proof that fails names none (which of code and email is wrong is not told)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.test import Client

from bookings import proposals
from bookings.assistant import run_tool_calls
from bookings.models import Proposal, Service
from bookings.services import CUSTOMER, booking_create
from bookings.tests.conftest import local, next_weekday
from chat.models import Conversation
from chat.services import conversation_open
from routing.contracts import ToolCall
from supportai.models import Tenant

ORIGIN = "https://alpha.example.com"
SOCKET = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


def _start(tenant: Tenant, hour: int = 9, minute: int = 0) -> str:
    return local(tenant, next_weekday(2), hour, minute).strftime("%Y-%m-%dT%H:%M")


def _propose(tenant: Tenant, service: Service, **fields: Any) -> dict[str, Any]:
    base = {"type": "booking.propose", "service_id": service.pk, "start": _start(tenant), "name": "Ann"}
    return {**base, "email": "ann@example.org", **fields}


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        ({"email": "nope"}, "bad_request", "email"),
        ({"email": "  "}, "bad_request", "email"),
        ({"name": ""}, "bad_request", "name"),
        ({"name": 7}, "bad_request", "name"),
        ({"notes": "x" * 501}, "too_long", "notes"),
        ({"start": "9am"}, "bad_request", "start"),
        ({"start": "9999-12-31T09:00"}, "bad_request", "start"),
        ({"service_id": "1"}, "bad_request", "service_id"),
    ],
)
@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_refused_booking_frame_names_its_field(connect, tenant, service, fields, code, field):
    client = await connect(tenant)
    # when
    await client.send(_propose(tenant, service, **fields))
    error = await client.receive()
    # then
    assert (error["type"], error["code"], error["field"]) == ("error", code, field), error
    await client.send({"type": "ping"})
    assert (await client.receive())["type"] == "pong"


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_time_that_is_no_free_slot_and_another_tenants_service_name_their_fields(
    connect, tenant, service, other_service
):
    client = await connect(tenant)
    # when: a time between slots, then the other tenant's service
    await client.send(_propose(tenant, service, start=_start(tenant, 9, 17)))
    off_slot = await client.receive()
    await client.send(_propose(tenant, service, service_id=other_service.pk))
    foreign = await client.receive()
    await client.send({"type": "booking.slots", "service_id": service.pk, "date": "tomorrow"})
    bad_date = await client.receive()
    # then
    assert (off_slot["code"], off_slot["field"]) == ("bad_request", "start")
    assert (foreign["code"], foreign["field"]) == ("not_found", "service_id")
    assert other_service.name not in foreign["message"]
    assert (bad_date["code"], bad_date["field"]) == ("bad_request", "date")


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_failed_ownership_proof_names_no_field(connect, tenant, service):
    client = await connect(tenant)
    await client.send({"type": "booking.lookup", "code": "BK-ACDEFG", "email": "ann@example.org"})
    error = await client.receive()
    assert error["code"] == "not_found" and "field" not in error


@pytest.mark.django_db(transaction=True)  # the message endpoint is async: it reads in another connection
def test_the_http_fallback_error_names_its_field(tenant: Tenant) -> None:
    opened = conversation_open(tenant=tenant, origin=ORIGIN, channel="api")
    # when: a decision without its proposal_id, and a message over 2000 characters
    confirm = Client().post(
        "/api/v1/public/chat/proposals/confirm",
        json.dumps({"key": tenant.public_key, "resume_token": opened.resume_token}),
        content_type="application/json",
        headers={"origin": ORIGIN},
    )
    message = Client().post(
        "/api/v1/public/chat/messages",
        json.dumps({"key": tenant.public_key, "client_id": "a", "text": "x" * 2001}),
        content_type="application/json",
        headers={"origin": ORIGIN},
    )
    # then
    assert (confirm.status_code, confirm.json()["field"]) == (400, "proposal_id")
    assert (message.status_code, message.json()["code"], message.json()["field"]) == (413, "too_long", "text")


@pytest.mark.django_db
def test_a_slot_taken_before_confirmation_fails_naming_the_start(tenant: Tenant, service: Service) -> None:
    # given: a proposal for 10:00, and the slot booked by someone else meanwhile
    opened = conversation_open(tenant=tenant, origin=ORIGIN, channel="api")
    start = local(tenant, next_weekday(2), 10)
    proposal = proposals.booking_propose_book(
        tenant=tenant, conversation=opened.conversation, service_id=service.pk, start=start, name="A", email="a@x.org"
    )
    booking_create(tenant=tenant, service=service, start=start, name="B", email="b@x.org", actor=CUSTOMER)
    # when
    body = {"key": tenant.public_key, "resume_token": opened.resume_token, "proposal_id": str(proposal.public_id)}
    response = Client().post("/api/v1/public/chat/proposals/confirm", json.dumps(body), content_type="application/json")
    # then
    frame = response.json()
    assert (frame["status"], frame["error"], frame["field"]) == ("failed", "slot_unavailable", "start")


@sync_to_async
def _tool(tenant: Tenant, tool: str, **arguments: Any) -> dict[str, Any]:
    conversation = Conversation.objects.create(tenant=tenant, resume_token_hash=f"t-{tool}-{len(arguments)}")
    step = run_tool_calls(tenant=tenant, conversation=conversation, ip="", calls=(ToolCall("c1", tool, arguments),))
    [result] = step.results
    assert result.is_error
    content: dict[str, Any] = json.loads(result.content)
    return content


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"email": "nope"}, "email"),
        ({"name": " "}, "name"),
        ({"name": None}, "name"),
        ({"notes": "x" * 501}, "notes"),
        ({"start": "soon"}, "start"),
        ({"service_id": "two"}, "service_id"),
    ],
)
@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_refused_booking_tool_call_names_its_argument(tenant, service, arguments, field):
    base = {"service_id": service.pk, "start": _start(tenant), "name": "Ann", "email": "ann@example.org"}
    content = await _tool(tenant, "create_booking", **{**base, **arguments})
    assert content["field"] == field and content["error"], content
    assert await Proposal.objects.acount() == 0


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_tool_call_for_another_tenants_service_or_a_bad_new_start_names_its_argument(
    tenant, service, other_service
):
    foreign = await _tool(
        tenant, "create_booking", service_id=other_service.pk, start=_start(tenant), name="A", email="a@x.org"
    )
    booking = await sync_to_async(booking_create)(
        tenant=tenant,
        service=service,
        start=local(tenant, next_weekday(2), 9),
        name="A",
        email="a@x.org",
        actor=CUSTOMER,
    )
    moved = await _tool(
        tenant,
        "reschedule_booking",
        confirmation_code=booking.confirmation_code,
        email="a@x.org",
        new_start=_start(tenant, 9, 17),
    )
    assert foreign["field"] == "service_id" and other_service.name not in foreign["error"]
    assert moved["field"] == "new_start"


@pytest.mark.django_db
def test_the_openapi_schema_has_the_field_of_an_error_and_of_a_failed_result() -> None:
    schemas = Client().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()["components"]
    error, result = schemas["schemas"]["PublicError"], schemas["schemas"]["ProposalResult"]
    assert error["properties"]["field"]["type"] == "string" and "field" not in error["required"]
    assert result["properties"]["field"]["type"] == "string" and "field" not in result["required"]
