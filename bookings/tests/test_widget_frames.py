"""The quick-action booking frames and proposal decisions over the real websocket stack."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from bookings.dates import bookable_range_message
from bookings.models import Booking, BookingStatus, Proposal
from bookings.tests.conftest import next_weekday
from bookings.widget import RESUME_PROPOSALS

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


async def _first_slot(client, service_id, day):
    await client.send({"type": "booking.slots", "service_id": service_id, "date": day.isoformat(), "days": 1})
    frame = await client.receive()
    assert frame["type"] == "booking.slots", frame
    return frame["slots"]


async def _propose_and_confirm(client, frame):
    await client.send(frame)
    proposal = await client.receive()
    assert proposal["type"] == "proposal", proposal
    await client.send({"type": "proposal.confirm", "proposal_id": proposal["proposal_id"]})
    result = await client.receive()
    assert result["type"] == "proposal.result"
    return proposal, result


async def test_book_look_up_reschedule_and_cancel_without_an_llm(connect, tenant, service):
    # given
    client = await connect(tenant)
    await client.send({"type": "booking.services"})
    services = (await client.receive())["services"]
    assert [s["name"] for s in services] == ["Massage"] and services[0]["price"] == "Free"
    day = next_weekday(2)
    slots = await _first_slot(client, service.pk, day)
    assert slots[0]["start"] == f"{day.isoformat()}T09:00"
    # when: book
    proposal, result = await _propose_and_confirm(
        client,
        {
            "type": "booking.propose",
            "service_id": service.pk,
            "start": slots[0]["start"],
            "name": "Ann",
            "email": "ann@x.org",
        },
    )
    # then
    assert proposal["action"] == "book" and proposal["details"]["level"] == "T2"
    assert result["status"] == "executed" and result["booking_status"] == "confirmed"
    code = result["confirmation_code"]
    booking = await Booking.objects.aget(confirmation_code=code)
    assert booking.conversation_id == client.ready["conversation_id"]
    # look-up needs code and email
    await client.send({"type": "booking.lookup", "code": code, "email": "ANN@x.org"})
    detail = await client.receive()
    assert detail["type"] == "booking.detail" and detail["booking"]["start"] == slots[0]["start"]
    # reschedule to the next slot
    _, moved = await _propose_and_confirm(
        client, {"type": "booking.reschedule", "code": code, "email": "ann@x.org", "start": slots[2]["start"]}
    )
    assert moved["status"] == "executed" and moved["action"] == "reschedule"
    # cancel
    _, canceled = await _propose_and_confirm(client, {"type": "booking.cancel", "code": code, "email": "ann@x.org"})
    assert canceled["status"] == "executed"
    booking = await Booking.objects.aget(pk=booking.pk)
    assert booking.status == BookingStatus.CANCELED


async def test_reject_changes_nothing(connect, tenant, service):
    client = await connect(tenant)
    slots = await _first_slot(client, service.pk, next_weekday(3))
    await client.send(
        {
            "type": "booking.propose",
            "service_id": service.pk,
            "start": slots[0]["start"],
            "name": "A",
            "email": "a@x.org",
        }
    )
    proposal = await client.receive()
    await client.send({"type": "proposal.reject", "proposal_id": proposal["proposal_id"]})
    result = await client.receive()
    assert result["status"] == "rejected" and await Booking.objects.acount() == 0


async def test_another_conversation_cannot_confirm(connect, tenant, other_tenant, service, other_service):
    owner = await connect(tenant)
    slots = await _first_slot(owner, service.pk, next_weekday(3))
    await owner.send(
        {
            "type": "booking.propose",
            "service_id": service.pk,
            "start": slots[0]["start"],
            "name": "A",
            "email": "a@x.org",
        }
    )
    proposal = await owner.receive()
    same_tenant = await connect(tenant)
    foreign = await connect(other_tenant, origin="https://bravo.example.com")
    for thief in (same_tenant, foreign):
        await thief.send({"type": "proposal.confirm", "proposal_id": proposal["proposal_id"]})
        assert (await thief.receive())["code"] == "not_found"
    assert await Booking.objects.acount() == 0
    assert (await Proposal.objects.aget()).status == "pending"


async def test_other_tenants_service_is_not_offered(connect, tenant, service, other_service):
    client = await connect(tenant)
    await client.send({"type": "booking.slots", "service_id": other_service.pk, "date": next_weekday(2).isoformat()})
    assert (await client.receive())["code"] == "not_found"


async def test_wrong_email_is_generic_not_found_and_attempts_are_limited(connect, tenant, service):
    client = await connect(tenant)
    slots = await _first_slot(client, service.pk, next_weekday(2))
    _, result = await _propose_and_confirm(
        client,
        {
            "type": "booking.propose",
            "service_id": service.pk,
            "start": slots[0]["start"],
            "name": "A",
            "email": "a@x.org",
        },
    )
    code = result["confirmation_code"]
    answers = []
    for attempt in range(6):
        await client.send({"type": "booking.lookup", "code": code, "email": f"eve{attempt}@x.org"})
        answers.append(await client.receive())
    assert [a["code"] for a in answers] == ["not_found"] * 5 + ["rate_limited"]
    assert answers[0]["message"] == answers[1]["message"]
    # even the right email is refused while the limit holds
    await client.send({"type": "booking.lookup", "code": code, "email": "a@x.org"})
    assert (await client.receive())["code"] == "rate_limited"


@pytest.mark.parametrize(
    "frame",
    [
        {"type": "booking.slots", "service_id": "1", "date": "2030-01-01"},
        {"type": "booking.slots", "service_id": 1, "date": "tomorrow"},
        {"type": "booking.slots", "service_id": 1, "date": "2030-01-01", "days": 99},
        {"type": "booking.propose", "service_id": 1, "start": "9am", "name": "A", "email": "a@x.org"},
        {"type": "booking.propose", "service_id": 1, "start": "2030-01-01T09:00", "name": "", "email": "a@x.org"},
        {"type": "booking.lookup", "code": "BK-1", "email": None},
        {"type": "booking.cancel", "code": ["x"], "email": "a@x.org"},
        {"type": "booking.reschedule", "code": "BK-ACDEFG", "email": "a@x.org"},
    ],
)
async def test_bad_booking_frames_get_bad_request_and_the_socket_stays_open(connect, tenant, service, frame):
    client = await connect(tenant)
    await client.send(frame)
    error = await client.receive()
    assert error["type"] == "error" and error["code"] == "bad_request", error
    await client.send({"type": "ping"})
    assert (await client.receive())["type"] == "pong"


@pytest.mark.parametrize(
    "frame",
    [
        {"type": "booking.slots", "date": "9999-12-31"},
        {"type": "booking.slots", "date": "0001-01-01", "days": 1},
        {"type": "booking.propose", "start": "9999-12-31T20:00", "name": "A", "email": "a@x.org"},
        {"type": "booking.propose", "start": "9999-12-31T23:00-05:00", "name": "A", "email": "a@x.org"},
        {"type": "booking.propose", "start": "0001-01-01T01:00+05:00", "name": "A", "email": "a@x.org"},
        {"type": "booking.reschedule", "code": "BK-ACDEFG", "email": "a@x.org", "start": "9999-12-31T23:00-05:00"},
    ],
)
async def test_dates_outside_the_bookable_range_are_a_clear_bad_request(connect, tenant, service, frame):
    # given: a business west of UTC, where 9999-12-31 evening local is already year 10000 in UTC
    tenant.timezone = "America/New_York"
    await tenant.asave(update_fields=["timezone"])
    client = await connect(tenant)
    # when
    await client.send({**frame, "service_id": service.pk})
    error = await client.receive()
    # then
    assert error["type"] == "error" and error["code"] == "bad_request", error
    assert error["message"] == bookable_range_message(), error
    await client.send({"type": "ping"})
    assert (await client.receive())["type"] == "pong"


async def test_bad_email_in_proposal_is_a_clear_error(connect, tenant, service):
    client = await connect(tenant)
    slots = await _first_slot(client, service.pk, next_weekday(2))
    await client.send(
        {"type": "booking.propose", "service_id": service.pk, "start": slots[0]["start"], "name": "A", "email": "nope"}
    )
    error = await client.receive()
    assert error["code"] == "bad_request" and "email" in error["message"]


async def _propose(client, service_id, start):
    await client.send(
        {"type": "booking.propose", "service_id": service_id, "start": start, "name": "Ann", "email": "ann@x.org"}
    )
    proposal = await client.receive()
    assert proposal["type"] == "proposal", proposal
    return proposal


async def test_resume_sends_the_open_proposals_again_and_they_can_be_confirmed(
    connect, tenant, other_tenant, service, other_service
):
    # given a conversation with an open, a rejected and an expired proposal
    client = await connect(tenant)
    slots = await _first_slot(client, service.pk, next_weekday(2))
    still_open, rejected, expired = [await _propose(client, service.pk, slot["start"]) for slot in slots[:3]]
    await client.send({"type": "proposal.reject", "proposal_id": rejected["proposal_id"]})
    assert (await client.receive())["status"] == "rejected"
    await Proposal.objects.filter(public_id=expired["proposal_id"]).aupdate(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    # and an open proposal in another conversation of the same tenant and one of the other tenant
    neighbour = await connect(tenant)
    await _propose(neighbour, service.pk, slots[3]["start"])
    foreign = await connect(other_tenant, origin="https://bravo.example.com")
    foreign_slots = await _first_slot(foreign, other_service.pk, next_weekday(2))
    await _propose(foreign, other_service.pk, foreign_slots[0]["start"])
    # when the customer comes back with the resume token
    resumed = await connect(tenant, resume=client.ready["resume_token"])
    # then the still-open proposal (only it) follows session.ready, exactly as first sent
    assert resumed.ready["conversation_id"] == client.ready["conversation_id"]
    assert await resumed.receive() == still_open
    assert await resumed.communicator.receive_nothing(timeout=0.5)
    # and the customer can still confirm it
    await resumed.send({"type": "proposal.confirm", "proposal_id": still_open["proposal_id"]})
    result = await resumed.receive()
    assert (result["type"], result["status"], result["proposal_id"]) == (
        "proposal.result",
        "executed",
        still_open["proposal_id"],
    )


async def test_the_other_tenants_widget_with_the_token_gets_no_proposals(connect, tenant, other_tenant, service):
    client = await connect(tenant)
    slots = await _first_slot(client, service.pk, next_weekday(2))
    await _propose(client, service.pk, slots[0]["start"])
    foreign = await connect(other_tenant, origin="https://bravo.example.com", resume=client.ready["resume_token"])
    assert foreign.ready["conversation_id"] != client.ready["conversation_id"]
    assert await foreign.communicator.receive_nothing(timeout=0.5)


async def test_resume_sends_only_the_newest_open_proposals_however_many_a_client_made(connect, tenant, service):
    # given a client that proposed far more bookings than anyone confirms, each with other notes
    client = await connect(tenant)
    start = (await _first_slot(client, service.pk, next_weekday(2)))[0]["start"]
    made = []
    for number in range(RESUME_PROPOSALS + 5):
        await client.send(
            {
                "type": "booking.propose",
                "service_id": service.pk,
                "start": start,
                "name": "Ann",
                "email": "ann@x.org",
                "notes": f"try {number}",
            }
        )
        made.append(await client.receive())
    assert len({proposal["proposal_id"] for proposal in made}) == len(made)
    # when it resumes (as often as it likes)
    resumed = await connect(tenant, resume=client.ready["resume_token"])
    # then it gets the newest open ones again, oldest first, and no more
    again = [await resumed.receive() for _ in range(RESUME_PROPOSALS)]
    assert again == made[-RESUME_PROPOSALS:]
    assert await resumed.communicator.receive_nothing(timeout=0.5)
