"""A proposal's own text in the customer's language: over the socket, a German conversation's ``proposal``
frame has a German summary, its slots German labels and its ``proposal.result`` a German ``start_local``;
an English one reads as it always did; one in a language we have no sentences in (Polish), English. The
summary is stored as shown, and staff read it as the customer saw it."""

from __future__ import annotations

import json
import threading
from datetime import datetime
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.db.backends.utils import CursorWrapper
from django.test import AsyncClient, Client
from django.urls import reverse

from bookings import proposals
from bookings.assistant import tools_for
from bookings.dates import said_time
from bookings.models import Proposal, Service
from bookings.tests.conftest import customer_booking, local, next_weekday
from chat.tests.conftest import ORIGIN, Connect, conversation_written_in
from chat.tools import turn_with_tools
from routing.contracts import ToolCall, TurnRequest
from routing.providers.fake import Script, ScriptedProvider
from routing.registry import override_providers
from supportai.models import Tenant

pytestmark = pytest.mark.django_db(transaction=True)  # the socket runs its database work on the pool

GERMAN = "Wie kann ich einen Termin buchen?"
ENGLISH = "How do I book an appointment?"
POLISH = "Jak mogę zarezerwować wizytę?"  # no sentences of ours: English


def _propose(service: Service, start: str) -> dict[str, Any]:
    return {"type": "booking.propose", "service_id": service.pk, "start": start, "name": "Pat", "email": "pat@x.org"}


def _at(tenant: Tenant, hour: int) -> datetime:
    return local(tenant, next_weekday(2), hour)


async def _booked(connect: Connect, tenant: Tenant, service: Service, written: str) -> tuple[dict, dict, dict]:
    opened = await sync_to_async(conversation_written_in)(tenant, written)
    client = await connect(tenant, resume=opened.resume_token)
    try:
        await client.send({"type": "booking.slots", "service_id": service.pk, "date": next_weekday(2).isoformat()})
        slots = await client.receive()
        await client.send(_propose(service, f"{next_weekday(2).isoformat()}T10:00"))
        proposal = await client.receive()
        await client.send({"type": "proposal.confirm", "proposal_id": proposal["proposal_id"]})
        result = await client.receive()
    finally:
        await client.disconnect()
    return slots, proposal, result


@pytest.mark.asyncio
async def test_a_german_conversation_reads_its_proposal_in_german(
    connect: Connect, tenant: Tenant, at_desk: Service
) -> None:
    # given a German conversation and a service paid at the venue
    # when the customer asks for the slots, proposes a booking and confirms it
    slots, proposal, result = await _booked(connect, tenant, at_desk, GERMAN)
    # then the labels, the summary and the start are German
    when = said_time(_at(tenant, 10), "de")
    assert when.startswith("Mittwoch, ") and when != _at(tenant, 10).strftime("%A %-d %B %Y at %H:%M")
    assert when in [slot["label"] for slot in slots["slots"]]
    price = proposal["details"]["price"]
    assert proposal["summary"] == f"{at_desk.name} am {when} für Pat (pat@x.org) buchen. Zahlung vor Ort: {price}."
    assert result["start_local"] == when
    # and the proposal keeps what the customer confirmed
    stored = await Proposal.objects.aget(public_id=proposal["proposal_id"])
    assert stored.summary == proposal["summary"]


@pytest.mark.asyncio
@pytest.mark.parametrize("written", [ENGLISH, POLISH])
async def test_english_and_unknown_languages_read_the_english_proposal(
    connect: Connect, tenant: Tenant, at_desk: Service, written: str
) -> None:
    # given an English (Polish) conversation
    # when the customer proposes a booking and confirms it
    slots, proposal, result = await _booked(connect, tenant, at_desk, written)
    # then everything reads as it always did
    when = _at(tenant, 10).strftime("%A %-d %B %Y at %H:%M")
    assert when in [slot["label"] for slot in slots["slots"]]
    price = proposal["details"]["price"]
    assert proposal["summary"] == f"Book {at_desk.name} on {when} for Pat (pat@x.org). Pay at the venue: {price}."
    assert result["start_local"] == when


@pytest.mark.asyncio
async def test_a_german_conversation_reads_its_cancel_and_reschedule_proposals_in_german(
    connect: Connect, tenant: Tenant, service: Service
) -> None:
    # given a German conversation and the customer's booking
    booking = await sync_to_async(customer_booking)(tenant, service, day=next_weekday(2), hour=10, email="ann@x.org")
    opened = await sync_to_async(conversation_written_in)(tenant, GERMAN)
    client = await connect(tenant, resume=opened.resume_token)
    try:
        # when they propose to move it, and to cancel it
        owned = {"code": booking.confirmation_code, "email": "ann@x.org"}
        new = f"{next_weekday(2).isoformat()}T11:00"
        await client.send({"type": "booking.reschedule", **owned, "start": new})
        moved = await client.receive()
        await client.send({"type": "booking.cancel", **owned})
        canceled = await client.receive()
    finally:
        await client.disconnect()
    # then both are said in German
    old, later = said_time(_at(tenant, 10), "de"), said_time(_at(tenant, 11), "de")
    code = booking.confirmation_code
    assert moved["summary"] == f"{service.name} ({code}) von {old} auf {later} verschieben."
    assert canceled["summary"] == f"{service.name} am {old} ({code}) stornieren."


def test_staff_read_a_german_summary_as_the_customer_saw_it(
    tenant: Tenant, service: Service, admin_client: Client
) -> None:
    # given a proposal made in a German conversation
    opened = conversation_written_in(tenant, GERMAN)
    proposal = proposals.booking_propose_book(
        tenant=tenant,
        conversation=opened.conversation,
        service_id=service.pk,
        start=_at(tenant, 10),
        name="Pat",
        email="pat@x.org",
        language="de",
    )
    # when staff open it in the admin
    response = admin_client.get(reverse("admin:bookings_proposal_change", args=[proposal.pk]))
    # then the page shows the German summary
    assert response.status_code == 200
    assert "für Pat (pat@x.org) buchen." in response.content.decode()


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("asked", "language"), [("Bitte buchen Sie mir eine Massage um 10 Uhr.", "de"), (ENGLISH, "en")]
)
async def test_the_assistants_proposal_is_said_in_the_language_the_customer_wrote(
    connect: Connect, tenant: Tenant, service: Service, asked: str, language: str
) -> None:
    # given a model that proposes a booking when asked
    start = f"{next_weekday(2).isoformat()}T10:00"
    provider = _proposing_booking(service, start)
    # when the customer asks in German (English)
    with override_providers({"local": provider}):
        client = await connect(tenant)
        try:
            await client.send({"type": "message.send", "client_id": "q1", "text": asked})
            frames = await client.receive_until("message.end")
        finally:
            await client.disconnect()
    # then the proposal's summary is in their language
    proposal = next(frame for frame in frames if frame["type"] == "proposal")
    when = said_time(_at(tenant, 10), language)
    said = {
        "de": f"{service.name} am {when} für Ann (a@x.org) buchen.",
        "en": f"Book {service.name} on {when} for Ann (a@x.org).",
    }
    assert proposal["summary"] == said[language]


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("written", "booked", "pay_terms"),
    [
        (
            GERMAN,
            "Gebucht! Ihr Bestätigungscode lautet {code}. Wir haben Ihnen die Details per E-Mail geschickt.",
            "Zahlung vor Ort: {price}.",
        ),
        (
            ENGLISH,
            "Booked! Your confirmation code is {code}. We've emailed you the details.",
            "Pay at the venue: {price}.",
        ),
    ],
    ids=["de", "en"],
)
async def test_an_executed_booking_is_said_in_the_customers_language(
    connect: Connect, tenant: Tenant, at_desk: Service, written: str, booked: str, pay_terms: str
) -> None:
    # given a German (English) conversation
    # when the customer books a service paid at the venue and confirms it
    _, proposal, result = await _booked(connect, tenant, at_desk, written)
    # then the result says so, and how it is paid, in their language (English as the widget always said it)
    assert result["status"] == "executed"
    assert result["message"] == booked.format(code=result["confirmation_code"])
    assert result["pay_terms"] == pay_terms.format(price=proposal["details"]["price"])


@pytest.mark.asyncio
async def test_a_german_conversations_executed_reschedule_and_cancel_are_said_in_german(
    connect: Connect, tenant: Tenant, service: Service
) -> None:
    # given a German conversation and the customer's booking
    booking = await sync_to_async(customer_booking)(tenant, service, day=next_weekday(2), hour=10, email="ann@x.org")
    opened = await sync_to_async(conversation_written_in)(tenant, GERMAN)
    client = await connect(tenant, resume=opened.resume_token)
    owned = {"code": booking.confirmation_code, "email": "ann@x.org"}
    try:
        # when they move it and confirm, then cancel it and confirm
        await client.send({"type": "booking.reschedule", **owned, "start": f"{next_weekday(2).isoformat()}T11:00"})
        await client.send({"type": "proposal.confirm", "proposal_id": (await client.receive())["proposal_id"]})
        moved = await client.receive()
        await client.send({"type": "booking.cancel", **owned})
        await client.send({"type": "proposal.confirm", "proposal_id": (await client.receive())["proposal_id"]})
        canceled = await client.receive()
    finally:
        await client.disconnect()
    # then both results are said in German, and pay nothing at the venue
    assert moved["message"] == f"Ihre Buchung wurde auf {said_time(_at(tenant, 11), 'de')} verschoben."
    assert canceled["message"] == "Ihre Buchung ist storniert."
    assert "pay_terms" not in moved and "pay_terms" not in canceled


@pytest.mark.parametrize(
    ("language", "said"),
    [
        ("en", "Almost done! Your booking BK-7KQ4MX is held until you pay."),
        ("de", "Fast geschafft! Ihre Buchung BK-7KQ4MX ist reserviert, bis Sie bezahlen."),
    ],
)
def test_a_booking_held_until_paid_is_said_in_the_customers_language(language: str, said: str) -> None:
    # given an executed booking proposal whose booking waits for its online payment
    held = {"confirmation_code": "BK-7KQ4MX", "booking_status": "pending", "payment": "online", "price_cents": 9500}
    decision = proposals.Decision(Proposal(action="book"), "executed", held)
    # when its result is said
    frame = proposals.decision_frame(decision, language)
    # then it says the booking is held, and nothing about paying at the venue
    assert frame["message"] == said
    assert "pay_terms" not in frame


@pytest.mark.asyncio
@pytest.mark.parametrize(("then", "language"), [("OK", "de"), ("Can you book it for me?", "en")], ids=["ok", "english"])
async def test_the_assistants_proposal_and_the_widgets_are_in_the_conversations_language(
    connect: Connect, tenant: Tenant, service: Service, then: str, language: str
) -> None:
    # given a German conversation, and a model that proposes a booking when asked
    opened = await sync_to_async(conversation_written_in)(tenant, GERMAN)
    start = f"{next_weekday(2).isoformat()}T10:00"
    provider = _proposing_booking(service, start)
    # when the customer's next message tells no language ("OK"; an English sentence does), and they then
    # propose the same booking with the widget's Book
    with override_providers({"local": provider}):
        client = await connect(tenant, resume=opened.resume_token)
        try:
            frames = await client.ask(then, "q2")
            await client.send({**_propose(service, start), "name": "Ann", "email": "a@x.org"})
            widgets = await client.receive()
        finally:
            await client.disconnect()
    # then the assistant's proposal and the widget's are both in the conversation's language: German after
    # "OK", English after the English sentence
    assistants = next(frame for frame in frames if frame["type"] == "proposal")
    when = said_time(_at(tenant, 10), language)
    said = {
        "de": f"{service.name} am {when} für Ann (a@x.org) buchen.",
        "en": f"Book {service.name} on {when} for Ann (a@x.org).",
    }
    assert (assistants["summary"], widgets["summary"]) == (said[language], said[language])


@pytest.mark.asyncio
@pytest.mark.parametrize(("then", "language"), [("OK", "de"), ("Can you book it for me?", "en")], ids=["ok", "english"])
async def test_over_http_the_assistants_proposal_is_in_the_conversations_language(
    tenant: Tenant, service: Service, then: str, language: str
) -> None:
    # given a German conversation, and a model that proposes a booking when asked
    opened = await sync_to_async(conversation_written_in)(tenant, GERMAN)
    start = f"{next_weekday(2).isoformat()}T10:00"
    # when the customer's next message, over the HTTP stream, tells no language ("OK"; an English sentence does)
    body = {"key": tenant.public_key, "client_id": "h-2", "text": then, "resume_token": opened.resume_token}
    with override_providers({"local": _proposing_booking(service, start)}):
        response = await AsyncClient().post(
            "/api/v1/public/chat/messages/stream",
            data=json.dumps(body),
            content_type="application/json",
            headers={"Origin": ORIGIN},
        )
        events = b"".join([chunk async for chunk in response.streaming_content]).decode()  # type: ignore[attr-defined]
    # then the assistant's proposal is in the conversation's language: German after "OK", else English
    [proposal] = [
        json.loads(block.split("data: ", 1)[1])
        for block in events.strip().split("\n\n")
        if block.startswith("event: proposal\n")
    ]
    when = said_time(_at(tenant, 10), language)
    said = {
        "de": f"{service.name} am {when} für Ann (a@x.org) buchen.",
        "en": f"Book {service.name} on {when} for Ann (a@x.org).",
    }
    assert proposal["summary"] == said[language]


def _proposing_booking(service: Service, start: str) -> ScriptedProvider:
    """A model that proposes booking ``service`` at ``start`` for Ann when asked, then says "ok"."""
    call = ToolCall(
        "call-1", "create_booking", {"service_id": service.pk, "start": start, "name": "Ann", "email": "a@x.org"}
    )
    return ScriptedProvider(
        name="local",
        scripts=(Script(deltas=("…",), tool_calls=(call,), confidence=0.95), Script(deltas=("ok",), confidence=0.95)),
    )


def _every_query(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The SQL every thread runs from now on (the turn's database work runs on the pool's threads, each with
    its own connection, which ``CaptureQueriesContext`` would not see); the database itself is real."""
    ran: list[str] = []
    lock = threading.Lock()
    execute = CursorWrapper.execute

    def counted(self: CursorWrapper, sql: str, params: Any = None) -> Any:
        with lock:
            ran.append(sql)
        return execute(self, sql, params)

    monkeypatch.setattr(CursorWrapper, "execute", counted)
    return ran


@pytest.mark.asyncio
async def test_a_tool_turn_is_told_the_conversations_language_and_reads_no_message_for_it(
    tenant: Tenant, service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a German conversation whose customer then wrote "OK", and a model that proposes a booking, then says
    # "ok": a turn of two rounds
    opened = await sync_to_async(conversation_written_in)(tenant, GERMAN)
    start = f"{next_weekday(2).isoformat()}T10:00"
    request = TurnRequest(
        question="OK", tools=await sync_to_async(tools_for)(tenant=tenant), conversation_id=opened.conversation.pk
    )
    frames: list[dict[str, Any]] = []

    async def emit(frame: dict[str, Any]) -> None:
        frames.append(frame)

    async def on_delta(text: str) -> None:
        pass

    ran = _every_query(monkeypatch)
    # when the turn runs, told the conversation's language by its caller
    with override_providers({"local": _proposing_booking(service, start)}):
        result = await turn_with_tools(
            tenant=tenant,
            conversation=opened.conversation,
            ip="203.0.113.7",
            language="de",
            request=request,
            emit=emit,
            on_delta=on_delta,
        )
    # then the proposal is said in German, and no round read the conversation's messages for it (each tool round
    # read them all before; the turn's other queries are the router's, some cached across the process's tests,
    # and the tool's: counted exactly they would depend on the tests run before)
    [proposal] = [frame for frame in frames if frame["type"] == "proposal"]
    assert proposal["summary"] == f"{service.name} am {said_time(_at(tenant, 10), 'de')} für Ann (a@x.org) buchen."
    assert result.text.endswith("ok")
    assert [sql for sql in ran if '"chat_message"' in sql] == []
