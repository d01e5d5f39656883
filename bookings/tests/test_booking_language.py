"""Booking errors and ``proposal.result`` texts in the customer's language: a German conversation reads
them in German over the socket and the HTTP fallback, an English one today's English, one in a language
we have no sentences in (Polish) English. ``code``, ``status``, ``error`` and ``field`` are the
protocol's in every language."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.test import Client

from bookings import proposals
from bookings.dates import last_bookable_date
from bookings.models import Booking, Proposal, ProposalStatus, Service
from bookings.tests.conftest import customer_booking, local, next_weekday
from chat.services import conversation_open
from chat.tests.conftest import ORIGIN, Connect, conversation_written_in
from chat.tests.urls_under_test import CONFIRM, REJECT
from supportai.models import Tenant

pytestmark = pytest.mark.django_db(transaction=True)  # the socket and the views run their database work on the pool

GERMAN = "Wie kann ich meine Buchung stornieren?"
ENGLISH = "How do I cancel my booking?"
POLISH = "Jak mogę anulować moją rezerwację?"  # no sentences of ours: English
WRITTEN = [(GERMAN, "de"), (ENGLISH, "en"), (POLISH, "en")]
SLOT_TAKEN = {
    "de": "Dieser Termin ist leider nicht mehr verfügbar. Bitte wählen Sie einen anderen.",
    "en": "Sorry, that time is no longer available. Please choose another slot.",
}
NOT_A_DATE = {"de": "'date' muss ein Datum wie 2026-03-09 sein.", "en": "'date' must be a date like 2026-03-09."}
NOTHING_CHANGED = {"de": "In Ordnung, es wurde nichts geändert.", "en": "Okay, nothing was changed."}


def _error(code: str, message: str, field: str = "") -> dict[str, Any]:
    return {"type": "error", "code": code, "message": message, **({"field": field} if field else {})}


def _propose(service: Service, start: str) -> dict[str, Any]:
    return {"type": "booking.propose", "service_id": service.pk, "start": start, "name": "Pat", "email": "pat@x.org"}


@pytest.mark.asyncio
@pytest.mark.parametrize(("written", "language"), WRITTEN)
async def test_the_socket_says_booking_errors_in_the_customers_language(
    connect: Connect, tenant: Tenant, service: Service, written: str, language: str
) -> None:
    # given a conversation whose customer wrote in German (English, Polish), resumed on a socket
    opened = await sync_to_async(conversation_written_in)(tenant, written)
    client = await connect(tenant, resume=opened.resume_token)
    # when they ask for a past slot, for the slots of a day that does not exist, and out of the bookable range
    await client.send(_propose(service, f"{(date.today() - timedelta(days=1)).isoformat()}T10:00"))
    past = await client.receive()
    await client.send({"type": "booking.slots", "service_id": service.pk, "date": "2026-02-30"})
    bad_date = await client.receive()
    await client.send({"type": "booking.slots", "service_id": service.pk, "date": "1999-12-31"})
    out_of_range = await client.receive()
    # then each is said in their language, its code and field the protocol's
    assert past == _error("bad_request", SLOT_TAKEN[language], "start")
    assert bad_date == _error("bad_request", NOT_A_DATE[language], "date")
    last = last_bookable_date().isoformat()
    in_range = {
        "de": f"Das Datum muss zwischen 2000-01-01 und {last} liegen.",
        "en": f"Dates must be between 2000-01-01 and {last}.",
    }
    assert out_of_range == _error("bad_request", in_range[language], "date")


def _post(path: str, body: dict[str, Any], accept_language: str = "") -> tuple[int, dict[str, Any]]:
    response = Client().post(
        path,
        json.dumps(body),
        content_type="application/json",
        HTTP_ORIGIN=ORIGIN,
        HTTP_ACCEPT_LANGUAGE=accept_language,
    )
    return response.status_code, response.json()


def _proposal(tenant: Tenant, service: Service, conversation: Any, hour: int = 10) -> Proposal:
    return proposals.booking_propose_book(
        tenant=tenant,
        conversation=conversation,
        service_id=service.pk,
        start=local(tenant, next_weekday(2), hour),
        name="Pat",
        email="pat@x.org",
    )


def test_another_tenants_proposal_is_not_found_in_the_conversations_language(
    tenant: Tenant, other_tenant: Tenant, service: Service, other_service: Service
) -> None:
    # given a German conversation, and a proposal of another tenant's conversation
    opened = conversation_written_in(tenant, GERMAN)
    theirs = _proposal(other_tenant, other_service, conversation_open(tenant=other_tenant).conversation)
    body = {"key": tenant.public_key, "resume_token": opened.resume_token, "proposal_id": str(theirs.public_id)}
    # when the German customer confirms it
    answer = _post(CONFIRM, body)
    # then it is not found, in German, and the other tenant's proposal is untouched
    assert answer == (404, _error("not_found", "Diesen Vorschlag gibt es nicht, oder er wurde bereits ersetzt."))
    theirs.refresh_from_db()
    assert theirs.status == ProposalStatus.PENDING and not Booking.objects.exists()


@pytest.mark.asyncio
@pytest.mark.parametrize(("written", "language"), WRITTEN)
async def test_the_socket_says_a_proposal_result_in_the_customers_language(
    connect: Connect, tenant: Tenant, service: Service, written: str, language: str
) -> None:
    # given a German (English, Polish) conversation's proposal
    opened = await sync_to_async(conversation_written_in)(tenant, written)
    client = await connect(tenant, resume=opened.resume_token)
    await client.send(_propose(service, f"{next_weekday(2).isoformat()}T10:00"))
    proposal = await client.receive()
    # when the customer rejects it
    await client.send({"type": "proposal.reject", "proposal_id": proposal["proposal_id"]})
    rejected = await client.receive()
    # then the result says so in their language
    assert (rejected["type"], rejected["status"], rejected["message"]) == (
        "proposal.result",
        "rejected",
        NOTHING_CHANGED[language],
    )
    assert "sentence" not in rejected  # what the result keeps to say it is no part of the frame


@pytest.mark.parametrize(("written", "language"), [(GERMAN, "de"), (ENGLISH, "en")])
def test_the_http_fallback_says_a_failed_proposal_in_the_conversations_language(
    tenant: Tenant, service: Service, written: str, language: str
) -> None:
    # given a German (or English) conversation's proposal, whose slot someone else booked since
    opened = conversation_written_in(tenant, written)
    proposal = _proposal(tenant, service, opened.conversation)
    customer_booking(tenant, service, day=next_weekday(2), hour=10, email="someone@x.org")
    body = {"key": tenant.public_key, "resume_token": opened.resume_token, "proposal_id": str(proposal.public_id)}
    # when the customer confirms it, their browser asking for English, and confirms it again
    first = _post(CONFIRM, body, "en")
    again = _post(CONFIRM, body, "en")
    # then it failed, said in the conversation's language both times, its error and field the protocol's
    for status, frame in (first, again):
        assert status == 200
        assert {key: frame[key] for key in ("type", "status", "error", "message", "field")} == {
            "type": "proposal.result",
            "status": "failed",
            "error": "slot_unavailable",
            "message": SLOT_TAKEN[language],
            "field": "start",
        }
        assert "sentence" not in frame
    assert not Booking.objects.filter(customer_email="pat@x.org").exists()


@pytest.mark.parametrize(("accept_language", "language"), [("de-DE,de;q=0.9", "de"), ("sv-SE,sv;q=0.9", "en")])
def test_a_conversation_not_written_in_says_the_result_as_the_request_asks(
    tenant: Tenant, service: Service, accept_language: str, language: str
) -> None:
    # given a conversation its customer has not written in (quick actions only), and its proposal
    opened = conversation_open(tenant=tenant, origin=ORIGIN)
    proposal = _proposal(tenant, service, opened.conversation)
    body = {"key": tenant.public_key, "resume_token": opened.resume_token, "proposal_id": str(proposal.public_id)}
    # when they reject it, their browser asking for German (or Swedish, a language we have no sentences in)
    status, frame = _post(REJECT, body, accept_language)
    # then the result is in German (or English)
    assert (status, frame["status"], frame["message"]) == (200, "rejected", NOTHING_CHANGED[language])
