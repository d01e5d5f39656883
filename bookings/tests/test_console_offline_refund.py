"""A refund due of a payment Stripe never took ("paid offline" at the desk, or the test-mode page) is
given back by hand, and owners and admins record it on the booking's page with the amount and how:
the refund due is cleared (the rest stays owed when less was given back), the history says so, the
customer is emailed, and a repeated submit records nothing more."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.utils.html import escape

from bookings import actions, offline_refunds, refund_records, services
from bookings.models import Booking, BookingEmail, BookingEventKind, EmailKind, Service
from bookings.services import CUSTOMER, STRIPE
from bookings.tests.conftest import customer_booking, logged_in, next_weekday, open_every_day
from bookings.tests.factories import ServiceFactory
from supportai.models import Role, Tenant
from supportai.tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db
NOTE = "Cash back at the desk"


def _paid_offline_then_canceled(tenant: Tenant, service: Service, *, owner: User | None = None) -> Booking:
    """A booking of a service paid online that staff recorded paid at the desk, then canceled: a refund is due."""
    booking = customer_booking(tenant, service, day=next_weekday(3), email="ann@example.org")
    staff = services.Actor.staff(owner) if owner is not None else services.SYSTEM
    booking = services.booking_mark_paid(booking=booking, actor=staff)
    booking = services.booking_cancel(tenant=tenant, booking=booking, actor=CUSTOMER, reason="Sick")
    assert booking.refund_due and not booking.paid_through_stripe
    return booking


def _post(user: User, booking: Booking, **form: Any) -> Any:
    data = {"amount": "95.00", "note": NOTE, "owed": str(booking.refund_remaining_cents), **form}
    return logged_in(user).post(f"/console/bookings/{booking.pk}/refund/offline/", data)


def _messages(response: Any) -> list[str]:
    assert response.status_code == 302, response.status_code
    return [str(m) for m in response.client.get(response["Location"]).context["messages"]]


def _errors_shown(content: bytes, field: str) -> str:
    shown = re.search(rf'<ul class="errorlist" id="id_{field}_error">(.*?)</ul>', content.decode(), re.S)
    return shown.group(1) if shown else ""


def _refunds(booking: Booking) -> list[dict[str, Any]]:
    return [e.data for e in booking.events.filter(kind=BookingEventKind.REFUNDED).order_by("pk")]


def _admin(tenant: Tenant) -> User:
    user = UserFactory.create(username="erin")
    MembershipFactory.create(user=user, tenant=tenant, role=Role.ADMIN)
    return user


def test_an_owner_records_a_refund_given_back_by_hand(tenant, owner, paid_service, django_capture_on_commit_callbacks):
    # given: a booking paid at the desk and canceled; its page offers to record the refund, all of it owed
    booking = _paid_offline_then_canceled(tenant, paid_service, owner=owner)
    client = logged_in(owner)
    page = client.get(f"/console/bookings/{booking.pk}/").content.decode()
    assert "Record refund (given back offline)" in page and 'value="95.00"' in page
    assert 'name="owed" value="9500"' in page and "Refund 95.00 EUR" not in page  # no Stripe button
    assert "Refund due" in client.get("/console/bookings/?refund_due=on").content.decode()
    mail.outbox.clear()
    # when: the owner records that the 95.00 EUR were given back in cash
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(owner, booking)
    # then: the refund due is cleared and the history says who gave back how much, and how
    assert _messages(response) == [offline_refunds.RECORDED.format(amount="95.00 EUR", code=booking.confirmation_code)]
    booking.refresh_from_db()
    assert not booking.refund_due and booking.refunded_at is not None and booking.refunded_cents == 9500
    event = booking.events.get(kind=BookingEventKind.REFUNDED)
    assert event.actor == "staff:alice" and event.staff_user == owner
    assert event.data == {"amount_cents": 9500, "offline": True, "note": NOTE, "owed_cents": 9500}
    page = client.get(f"/console/bookings/{booking.pk}/").content.decode()
    assert f"95.00 EUR refunded, in full — given back offline: {NOTE}" in page
    assert "Record refund (given back offline)" not in page
    assert booking.confirmation_code not in client.get("/console/bookings/?refund_due=on").content.decode()
    # and the customer is told; the staff's refund-due notice is not sent again
    (message,) = [m for m in mail.outbox if m.to == ["ann@example.org"]]
    assert message.subject == f"Your payment for booking {booking.confirmation_code} was refunded"
    assert BookingEmail.objects.filter(booking=booking, kind=EmailKind.TENANT_REFUND_DUE).count() == 1


def test_a_double_submit_records_the_refund_once(tenant, owner, paid_service, django_capture_on_commit_callbacks):
    # given
    booking = _paid_offline_then_canceled(tenant, paid_service)
    # when: the same form is posted twice (double click, a retry after a lost answer)
    with django_capture_on_commit_callbacks(execute=True):
        first = _post(owner, booking)
        second = _post(owner, booking, owed="9500")
    # then: one refund recorded, one email; the second is told it was recorded already
    assert first.status_code == 302
    assert _messages(second) == [
        offline_refunds.ALREADY_RECORDED.format(amount="95.00 EUR", code=booking.confirmation_code)
    ]
    assert len(_refunds(booking)) == 1
    assert BookingEmail.objects.filter(booking=booking, kind=EmailKind.PAYMENT_REFUNDED).count() == 1


def test_part_given_back_leaves_the_rest_owed_and_a_stale_form_is_refused(tenant, owner, paid_service):
    # given
    booking = _paid_offline_then_canceled(tenant, paid_service)
    # when: 30.00 EUR are given back, the same form submitted twice
    assert _post(owner, booking, amount="30,00").status_code == 302
    assert _post(owner, booking, amount="30.00", owed="9500").status_code == 302
    # then: the rest is still owed, and the page offers to record it
    booking.refresh_from_db()
    assert (booking.refunded_cents, booking.refund_remaining_cents, booking.refund_due) == (3000, 6500, True)
    page = logged_in(owner).get(f"/console/bookings/{booking.pk}/").content.decode()
    assert 'value="65.00"' in page and 'name="owed" value="6500"' in page
    assert "30.00 EUR of 95.00 EUR refunded, 65.00 EUR still owed" in page
    # when: a page opened before that records another amount
    stale = _post(owner, booking, amount="65.00", owed="9500")
    # then: refused, nothing recorded
    assert _messages(stale) == [offline_refunds.OWED_CHANGED.format(owed="65.00 EUR")]
    assert [r["amount_cents"] for r in _refunds(booking)] == [3000]
    # when: the rest is recorded from the page as it is now
    assert _post(owner, booking, amount="65.00", owed="6500").status_code == 302
    # then: refunded in full
    booking.refresh_from_db()
    assert booking.refunded_at is not None and not booking.refund_due
    assert [r["amount_cents"] for r in _refunds(booking)] == [3000, 6500]


@pytest.mark.parametrize(
    ("amount", "note", "field", "error"),
    [
        ("abc", NOTE, "amount", "Enter the amount given back in EUR, e.g. 95.00."),
        ("95.001", NOTE, "amount", "Enter the amount given back in EUR, e.g. 95.00."),
        ("0", NOTE, "amount", "Enter the amount given back in EUR, e.g. 95.00."),
        ("-5", NOTE, "amount", "Enter the amount given back in EUR, e.g. 95.00."),
        ("NaN", NOTE, "amount", "Enter the amount given back in EUR, e.g. 95.00."),
        ("1e400", NOTE, "amount", "Give the amount given back, at most the 95.00 EUR owed, e.g. 95.00."),
        ("1e999999", NOTE, "amount", "Enter the amount given back in EUR, e.g. 95.00."),  # cents overflow Decimal
        ("100.00", NOTE, "amount", "Give the amount given back, at most the 95.00 EUR owed, e.g. 95.00."),
        ("95.00", "   ", "note", offline_refunds.NOTE_MISSING),
        ("95.00", "x" * 301, "note", "Ensure this value has at most 300 characters (it has 301)."),
    ],
)
def test_bad_input_is_shown_on_its_field_and_records_nothing(tenant, owner, paid_service, amount, note, field, error):
    booking = _paid_offline_then_canceled(tenant, paid_service)
    response = _post(owner, booking, amount=amount, note=note)
    assert response.status_code == 200
    assert response.context["offline_refund_form"].errors == {field: [error]}
    assert escape(error) in _errors_shown(response.content, field)
    assert f'value="{escape(amount)}"' in response.content.decode()  # what was typed is kept
    booking.refresh_from_db()
    assert booking.refund_due and _refunds(booking) == []


def test_a_zero_decimal_currency_is_typed_in_whole_units(tenant, owner, service):
    yen = ServiceFactory.create(tenant=tenant, name="Onsen", price_cents=1500, currency="jpy")
    booking = _paid_offline_then_canceled(tenant, yen)
    assert 'value="1500"' in logged_in(owner).get(f"/console/bookings/{booking.pk}/").content.decode()
    assert _post(owner, booking, amount="15.50").status_code == 200
    assert _post(owner, booking, amount="1500").status_code == 302
    booking.refresh_from_db()
    assert booking.refunded_at is not None and booking.refunded_cents == 1500


def test_an_amount_of_absurd_magnitude_is_refused_at_once():
    # given: amounts typed with an exponent far beyond any price (in a process of its own: before, the yen
    # amount built an integer of a hundred million digits, which holds the interpreter for days, and the euro
    # amount overflowed the decimal context)
    code = (
        "import django; django.setup(); from bookings.currency import parse_amount; "
        "print(parse_amount('1e99999999', 'jpy'), parse_amount('1e999999', 'eur'))"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "supportai.settings"}
    # when: they are read
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env)
    # then: each is no amount, at once
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["None", "None"]


def test_a_booking_owing_no_refund_is_refused(tenant, owner, paid_service, at_desk):
    # given: a confirmed booking paid at the desk, and one paid on arrival then canceled (given back at the desk)
    kept = services.booking_mark_paid(
        booking=customer_booking(tenant, paid_service, day=next_weekday(3)), actor=services.SYSTEM
    )
    on_arrival = customer_booking(tenant, at_desk, day=next_weekday(4))
    on_arrival = services.booking_record_payment(tenant=tenant, booking=on_arrival, actor=services.SYSTEM)
    on_arrival = services.booking_cancel(tenant=tenant, booking=on_arrival, actor=CUSTOMER)
    for booking in (kept, on_arrival):
        # then: no form on its page, and a post is refused with the reason
        page = logged_in(owner).get(f"/console/bookings/{booking.pk}/").content.decode()
        assert "Record refund (given back offline)" not in page
        assert _messages(_post(owner, booking, owed="0")) == [offline_refunds.NO_REFUND_DUE]
        booking.refresh_from_db()
        assert booking.refunded_cents == 0 and _refunds(booking) == []


def test_a_payment_taken_through_stripe_is_refunded_through_stripe(tenant, owner, paid_service):
    # given: a booking paid through Stripe, then canceled
    booking = customer_booking(tenant, paid_service, day=next_weekday(3))
    booking = services.booking_mark_paid(booking=booking, actor=STRIPE, payment_intent="pi_offline")
    booking = services.booking_cancel(tenant=tenant, booking=booking, actor=CUSTOMER)
    # then: no form on its page, and a post is refused: the refund is made in Stripe
    assert (
        "Record refund (given back offline)"
        not in logged_in(owner).get(f"/console/bookings/{booking.pk}/").content.decode()
    )
    assert _messages(_post(owner, booking)) == [offline_refunds.PAID_THROUGH_STRIPE]
    assert _messages(_post(owner, booking, amount="abc")) == [offline_refunds.PAID_THROUGH_STRIPE]
    booking.refresh_from_db()
    assert booking.refund_due and _refunds(booking) == []


def test_an_admin_may_record_it_agents_and_analysts_may_not(tenant, agent, analyst, paid_service):
    booking = _paid_offline_then_canceled(tenant, paid_service)
    for user in (agent, analyst):
        assert "Record refund" not in logged_in(user).get(f"/console/bookings/{booking.pk}/").content.decode()
        assert _post(user, booking).status_code == 403
    booking.refresh_from_db()
    assert booking.refund_due
    assert _post(_admin(tenant), booking).status_code == 302
    booking.refresh_from_db()
    assert not booking.refund_due


def test_another_tenants_staff_get_not_found_and_record_nothing(tenant, other_tenant, outsider, paid_service):
    # given: a booking of ours owing a refund given back by hand, and the other tenant's manager
    booking = _paid_offline_then_canceled(tenant, paid_service)
    # when: they post our booking's refund
    response = _post(outsider, booking)
    # then: not found, nothing recorded
    assert response.status_code == 404 and booking.confirmation_code.encode() not in response.content
    booking.refresh_from_db()
    assert booking.refund_due and _refunds(booking) == []
    # and the service refuses another tenant's booking too
    open_every_day(other_tenant)
    with pytest.raises(services.BookingError) as refused:
        offline_refunds.booking_record_offline_refund(
            tenant=other_tenant, booking=booking, actor=services.SYSTEM, amount_cents=9500, owed_cents=9500, note=NOTE
        )
    assert refused.value.code == services.NOT_FOUND


INTERNAL_NOTE = "Cash from the till, Bob to recount; customer was rude"


@pytest.mark.parametrize(
    ("amount", "given"),
    [("95.00", "your payment of 95.00 EUR"), ("30.00", "30.00 EUR of your payment of 95.00 EUR")],
)
def test_the_customer_is_told_the_money_was_given_back_with_no_bank_delay(
    tenant, owner, paid_service, django_capture_on_commit_callbacks, amount, given
):
    # given: a booking paid at the desk and canceled
    booking = _paid_offline_then_canceled(tenant, paid_service)
    page = logged_in(owner).get(f"/console/bookings/{booking.pk}/").content.decode()
    assert "How it was given back <small>(for the history; not sent to the customer)</small>" in page
    mail.outbox.clear()
    # when: staff record what they gave back, with their own note on how
    with django_capture_on_commit_callbacks(execute=True):
        assert _post(owner, booking, amount=amount, note=INTERNAL_NOTE).status_code == 302
    # then: the customer reads that it was given back directly, with no bank days to wait for
    (message,) = [m for m in mail.outbox if m.to == ["ann@example.org"]]
    assert isinstance(message, EmailMultiAlternatives)
    tenant_name = escape(tenant.name)
    for text in (message.body, str(message.alternatives[0][0])):
        assert f"{tenant.name if text is message.body else tenant_name} has recorded that {given}" in text
        assert "was given back to you directly, not as a card refund" in text
        assert "there are no bank processing days to wait for" in text
        assert "business days" not in text and "we have refunded" not in text
        # and the staff's note, a record for the booking's history, is not sent to the customer
        assert "Bob" not in text and "rude" not in text and "till" not in text


def test_a_refund_through_stripe_still_names_the_bank_delay(
    tenant, owner, paid_service, django_capture_on_commit_callbacks
):
    # given: a booking paid through Stripe, canceled
    booking = customer_booking(tenant, paid_service, day=next_weekday(3), email="ann@example.org")
    booking = services.booking_mark_paid(booking=booking, actor=STRIPE, payment_intent="pi_bank")
    booking = services.booking_cancel(tenant=tenant, booking=booking, actor=CUSTOMER)
    mail.outbox.clear()
    # when: Stripe reports the refund
    with django_capture_on_commit_callbacks(execute=True):
        refund_records.booking_mark_refunded(booking=booking, actor=STRIPE, refunded_cents=9500)
    # then
    (message,) = [m for m in mail.outbox if m.to == ["ann@example.org"]]
    assert "we have refunded your payment of 95.00 EUR" in message.body
    assert "5 to 10 business days" in message.body and "given back to you directly" not in message.body


def test_the_widget_reads_a_refund_given_back_by_hand_as_a_refund(tenant, owner, paid_service):
    # given: part, then all, of a payment taken at the desk given back by hand
    booking = _paid_offline_then_canceled(tenant, paid_service)
    _post(owner, booking, amount="30.00")
    booking.refresh_from_db()
    # then: "Your booking" (and the assistant's get_booking) read what was given back, no delay claimed
    part = actions.booking_dict(booking)
    assert (part["payment_status"], part["refunded"], part["price"]) == ("paid", "30.00 EUR", "95.00 EUR")
    _post(owner, booking, amount="65.00", owed="6500")
    booking.refresh_from_db()
    full = actions.booking_dict(booking)
    assert (full["payment_status"], full["refunded"]) == ("refunded", "95.00 EUR")


@pytest.mark.parametrize("owed", ["abc", "-9500", "", "9" * 5000])
def test_a_form_whose_owed_amount_was_tampered_with_says_so_at_its_top_and_records_nothing(
    tenant, owner, paid_service, owed
):
    # given: a booking paid at the desk, canceled, owing 95.00 EUR
    booking = _paid_offline_then_canceled(tenant, paid_service)
    # when: its form is posted with the hidden amount owed altered (no number, negative, missing, cut short)
    response = _post(owner, booking, owed=owed)
    # then: the form is shown again, its top saying why nothing was recorded and what to do
    assert response.status_code == 200
    shown = re.search(r'data-testid="refund-offline">.*?</form>', response.content.decode(), re.S)
    assert shown is not None
    top = shown.group(0).split("<label>")[0]
    assert escape(offline_refunds.OWED_UNREADABLE) in top
    assert 'role="alert"' in top
    booking.refresh_from_db()
    assert booking.refund_due and booking.refunded_cents == 0 and _refunds(booking) == []


@pytest.mark.parametrize("owed", ["1", "95.00", "9" * 4000])
def test_a_form_claiming_another_amount_owed_is_refused_and_records_nothing(tenant, owner, paid_service, owed):
    # given: a booking owing 95.00 EUR
    booking = _paid_offline_then_canceled(tenant, paid_service)
    # when: its form says it owed another amount (1 cent, 95 cents, far more than any price)
    response = _post(owner, booking, amount="0.01", owed=owed)
    # then: refused with what is owed now, nothing recorded
    assert _messages(response) == [offline_refunds.OWED_CHANGED.format(owed="95.00 EUR")]
    booking.refresh_from_db()
    assert booking.refund_due and booking.refunded_cents == 0 and _refunds(booking) == []
