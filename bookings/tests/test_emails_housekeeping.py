"""Emails (escaped HTML, plain text, .ics), housekeeping and the cleanup command, codes, demo, context."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from bookings import codes, notifications, proposals
from bookings.customer_context import booking_lines
from bookings.demo import seed_demo_bookings
from bookings.emails import build_message, calendar_file
from bookings.housekeeping import run_housekeeping
from bookings.models import AvailabilityRule, Booking, BookingStatus, Proposal, ProposalStatus, Service
from bookings.services import CUSTOMER, booking_create
from bookings.tests.conftest import local, next_weekday
from chat.models import Conversation
from chat.services import conversation_open, conversation_resume
from supportai.models import Role
from supportai.tests.factories import EndUserFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db
HOSTILE_NAME = '<script>alert("x")</script> Ann'


@pytest.fixture
def booking(tenant, service):
    return booking_create(
        tenant=tenant,
        service=service,
        start=local(tenant, next_weekday(2), 9),
        name=HOSTILE_NAME,
        email="ann@example.org",
        notes="<b>bold</b>",
        actor=CUSTOMER,
    )


def _message(booking, kind):
    message = build_message(booking, kind)
    assert message is not None
    return message


@pytest.mark.parametrize("kind", sorted(notifications.KINDS))
def test_every_email_escapes_customer_text_in_html(tenant, owner, booking, kind):
    message = _message(booking, kind)
    html = str(message.alternatives[0][0])
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert booking.confirmation_code in message.body and booking.confirmation_code in html
    assert HOSTILE_NAME in message.body  # plain text stays readable (nothing to inject into)
    assert "Massage" in message.subject or booking.confirmation_code in message.subject


def test_new_booking_notice_skips_deactivated_managers_and_other_tenants(
    tenant, other_tenant, owner, outsider, booking
):
    # given: a former admin whose account was deactivated (still a member), and an agent
    former = UserFactory.create(username="erin", email="erin@example.com", is_active=False)
    MembershipFactory.create(user=former, tenant=tenant, role=Role.ADMIN)
    MembershipFactory.create(user=UserFactory.create(username="bob"), tenant=tenant, role=Role.AGENT)
    # when / then: the customer's booking goes to the active owner only
    assert _message(booking, notifications.TENANT_NEW_BOOKING).to == [owner.email]


def test_confirmation_has_a_calendar_file_in_local_time(tenant, booking):
    message = _message(booking, notifications.CONFIRMATION)
    name, content, mimetype = message.attachments[0]
    assert name == f"{booking.confirmation_code}.ics" and mimetype == "text/calendar"
    assert f"DTSTART:{booking.start_at:%Y%m%dT%H%M%S}Z" in content
    assert "09:00" in message.body  # Europe/Paris wall clock in the text


def test_ics_escapes_text_values(booking):
    booking.service.name = "Massage; deep, relaxing"
    assert "SUMMARY:Massage\\; deep\\, relaxing at Alpha Clinic" in calendar_file(booking)


def test_emails_are_sent_only_after_commit(tenant, service, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        booking_create(
            tenant=tenant,
            service=service,
            start=local(tenant, next_weekday(2), 10),
            name="A",
            email="a@x.org",
            actor=CUSTOMER,
        )
    assert mail.outbox == [] and len(callbacks) == 2


def test_codes_avoid_look_alikes_and_normalize():
    drawn = {codes.generate_code() for _ in range(200)}
    assert len(drawn) == 200 and all(codes.looks_like_code(c) for c in drawn)
    assert not set("".join(c[3:] for c in drawn)) & set("01IOL2Z5S8BUV")
    assert codes.normalize_code(" bk 7kq4mx ") == "BK-7KQ4MX" == codes.normalize_code("7KQ4MX")


def test_housekeeping_expires_releases_purges(tenant, paid_service, service, settings):
    settings.CHAT_RESUME_IDLE_DAYS = 30
    now = timezone.now()
    opened = conversation_open(tenant=tenant)
    conversation = opened.conversation
    stale = proposals.booking_propose_book(
        tenant=tenant,
        conversation=conversation,
        service_id=service.pk,
        start=local(tenant, next_weekday(2), 12),
        name="A",
        email="a@x.org",
    )
    Proposal.objects.filter(pk=stale.pk).update(expires_at=now - timedelta(minutes=1))
    old = proposals.booking_propose_book(
        tenant=tenant,
        conversation=conversation,
        service_id=service.pk,
        start=local(tenant, next_weekday(2), 13),
        name="A",
        email="a@x.org",
    )
    Proposal.objects.filter(pk=old.pk).update(status=ProposalStatus.REJECTED, created_at=now - timedelta(days=8))
    unpaid = booking_create(
        tenant=tenant,
        service=paid_service,
        start=local(tenant, next_weekday(3), 9),
        name="U",
        email="u@x.org",
        actor=CUSTOMER,
    )
    Booking.objects.filter(pk=unpaid.pk).update(hold_expires_at=now - timedelta(minutes=1))
    idle = conversation_open(tenant=tenant)
    Conversation.objects.filter(pk=idle.conversation.pk).update(last_activity_at=now - timedelta(days=31))
    # when
    report = run_housekeeping()
    again = run_housekeeping()
    # then
    assert report.as_dict() == {
        "proposals_expired": 1,
        "holds_released": 1,
        "bookings_completed": 0,
        "resume_tokens_expired": 1,
        "proposals_purged": 1,
    }
    assert again.proposals_expired == again.holds_released == again.resume_tokens_expired == 0
    assert Proposal.objects.get(pk=stale.pk).status == ProposalStatus.EXPIRED
    assert not Proposal.objects.filter(pk=old.pk).exists()
    unpaid.refresh_from_db()
    assert unpaid.status == BookingStatus.CANCELED
    assert [e.kind for e in unpaid.events.all()][-1] == "hold_released"
    assert conversation_resume(tenant=tenant, resume_token=idle.resume_token) is None
    assert conversation_resume(tenant=tenant, resume_token=opened.resume_token) == conversation


def test_cleanup_command_prints_the_report(tenant):
    out = StringIO()
    call_command("cleanup", stdout=out)
    assert "proposals expired: 0" in out.getvalue() and "resume tokens expired: 0" in out.getvalue()


def test_beat_schedule_has_housekeeping(settings):
    assert settings.CELERY_BEAT_SCHEDULE["bookings-housekeeping"]["task"] == "bookings.housekeeping"
    assert "routing-cost-rollup" in settings.CELERY_BEAT_SCHEDULE


def test_demo_step_is_idempotent(tenant):
    first = seed_demo_bookings(tenant)
    seed_demo_bookings(tenant)
    assert "1 paid" in first
    assert Service.objects.for_tenant(tenant).count() == 4
    assert Service.objects.for_tenant(tenant).filter(price_cents__gt=0).count() == 1
    assert AvailabilityRule.objects.for_tenant(tenant).count() == 9


def test_verified_customer_context_lists_their_bookings_only(tenant, other_tenant, service, other_service):
    customer = EndUserFactory.create(tenant=tenant, email="ann@example.org")
    conversation = conversation_open(tenant=tenant).conversation
    mine = booking_create(
        tenant=tenant,
        service=service,
        start=local(tenant, next_weekday(2), 9),
        name="Ann",
        email="ANN@example.org",
        actor=CUSTOMER,
    )
    booking_create(
        tenant=tenant,
        service=service,
        start=local(tenant, next_weekday(2), 11),
        name="Bo",
        email="bo@x.org",
        actor=CUSTOMER,
    )
    booking_create(
        tenant=other_tenant,
        service=other_service,
        start=local(other_tenant, next_weekday(2), 9),
        name="Ann",
        email="ann@example.org",
        actor=CUSTOMER,
    )
    lines = booking_lines(tenant, customer, conversation)
    assert len(lines) == 2 and mine.confirmation_code in lines[1] and "Massage" in lines[1]


def test_booking_lines_reach_the_prompt_context(tenant, service):
    from chat.customer_context import customer_context_for

    customer = EndUserFactory.create(tenant=tenant, email="ann@example.org")
    conversation = conversation_open(tenant=tenant).conversation
    conversation.end_user = customer
    conversation.save()
    booked = booking_create(
        tenant=tenant,
        service=service,
        start=local(tenant, next_weekday(2), 9),
        name="Ann",
        email="ann@example.org",
        actor=CUSTOMER,
    )
    assert booked.confirmation_code in customer_context_for(tenant=tenant, conversation=conversation)
