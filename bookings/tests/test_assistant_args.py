"""Tool arguments PostgreSQL cannot store (NUL, half a surrogate pair) are the model's error, not a failed answer."""

from __future__ import annotations

import json

import pytest

from bookings.assistant import run_tool_calls
from bookings.models import Booking, Proposal
from bookings.services import CUSTOMER, GENERIC_NOT_FOUND, booking_create
from bookings.tests.conftest import local, next_weekday
from chat.services import conversation_open
from routing.contracts import ToolCall

pytestmark = pytest.mark.django_db


def _run(tenant, tool, arguments):
    conversation = conversation_open(tenant=tenant).conversation
    step = run_tool_calls(tenant=tenant, conversation=conversation, ip="", calls=(ToolCall("c1", tool, arguments),))
    (result,) = step.results
    return result


@pytest.mark.parametrize("bad", ["Ann\x00Lee", "Ann \ud800"], ids=["nul", "lone-surrogate"])
def test_unstorable_text_in_a_proposal_is_an_error_result(tenant, service, bad):
    start = f"{next_weekday(2).isoformat()}T10:00"
    arguments = {"service_id": service.pk, "start": start, "name": bad, "email": "ann@x.org"}
    result = _run(tenant, "create_booking", arguments)
    assert result.is_error and json.loads(result.content) == {"error": "'name' must be plain text", "field": "name"}
    assert Proposal.objects.count() == 0


@pytest.mark.parametrize(
    ("tool", "key"),
    [("get_booking", "confirmation_code"), ("cancel_booking", "email"), ("cancel_booking", "reason")],
)
def test_unstorable_text_in_a_look_up_is_an_error_result(tenant, service, tool, key):
    start = local(tenant, next_weekday(2), 9)
    booking = booking_create(tenant=tenant, service=service, start=start, name="A", email="a@x.org", actor=CUSTOMER)
    arguments = {"confirmation_code": booking.confirmation_code, "email": "a@x.org"}
    arguments[key] = arguments.get(key, "") + "\x00"
    result = _run(tenant, tool, arguments)
    assert result.is_error and json.loads(result.content) == {"error": f"'{key}' must be plain text", "field": key}
    assert Proposal.objects.count() == 0


def test_another_tenants_booking_stays_not_found(tenant, other_tenant, other_service):
    theirs = booking_create(
        tenant=other_tenant,
        service=other_service,
        start=local(other_tenant, next_weekday(2), 9),
        name="B",
        email="b@x.org",
        actor=CUSTOMER,
    )
    result = _run(tenant, "get_booking", {"confirmation_code": theirs.confirmation_code, "email": "b@x.org"})
    assert result.is_error and json.loads(result.content) == {"error": GENERIC_NOT_FOUND}
    assert Booking.objects.get().status == theirs.status
