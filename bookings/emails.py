"""Rendering and sending booking emails (HTML + text from Django templates, an .ics for confirmations).

Templates autoescape in HTML; the text versions are plain text (no markup to inject into). The
calendar file is built by hand per RFC 5545 with text values escaped.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from bookings import notifications
from bookings.availability import tenant_zone
from bookings.models import STAFF_EMAIL_KINDS, Booking, BookingEventKind
from bookings.payments import public_url, refund_available
from supportai.models import MANAGER_ROLES, Membership

SUBJECTS: dict[str, str] = {
    notifications.CONFIRMATION: "Your booking {code} is confirmed",
    notifications.TENANT_NEW_BOOKING: "New booking {code}: {service}",
    notifications.CANCELLATION: "Your booking {code} is canceled",
    notifications.RESCHEDULE: "Your booking {code} has a new time",
    notifications.PAYMENT_RECEIVED: "Payment received for booking {code}",
    notifications.PAYMENT_REFUND_DUE: "Your payment for booking {code} will be refunded",
    notifications.TENANT_REFUND_DUE: "Refund due for booking {code}: {amount}",
    notifications.PAYMENT_REFUNDED: "Your payment for booking {code} was refunded",
}
# The id of the booking page's form recording a refund given back by hand (console/detail.html).
RECORD_REFUND_ANCHOR = "record-refund"
# "was refunded" while only part of the payment is (its body names both amounts).
PARTLY_REFUNDED_SUBJECT = "{refunded} of your payment for booking {code} was refunded"


def _ics_text(value: str) -> str:
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _ics_time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def calendar_file(booking: Booking) -> str:
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//SupportAI//Bookings//EN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:{booking.confirmation_code}@supportai",
        f"DTSTAMP:{_ics_time(booking.updated_at)}",
        f"DTSTART:{_ics_time(booking.start_at)}",
        f"DTEND:{_ics_time(booking.end_at)}",
        f"SUMMARY:{_ics_text(f'{booking.service.name} at {booking.tenant.name}')}",
        f"DESCRIPTION:{_ics_text(f'Confirmation code {booking.confirmation_code}')}",
        "STATUS:CONFIRMED",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "\r\n".join(lines) + "\r\n"


def tenant_recipients(booking: Booking) -> list[str]:
    if booking.tenant.escalation_email:
        return [booking.tenant.escalation_email]
    # Not a deactivated account's address: it is often a former employee's, and the notice holds customer details.
    managers = Membership.objects.filter(
        tenant=booking.tenant, role__in=MANAGER_ROLES, user__is_active=True
    ).select_related("user")
    return sorted({m.user.email for m in managers if m.user.email})


def refunded_offline(booking: Booking) -> bool:
    """Whether what was refunded was given back by hand (``offline_refunds``), not by Stripe: a payment
    Stripe never took is refunded no other way, so its refunds are all of that kind."""
    return booking.events.filter(kind=BookingEventKind.REFUNDED, data__offline=True).exists()


def build_message(booking: Booking, kind: str) -> EmailMultiAlternatives | None:
    tz = tenant_zone(booking.tenant)
    console_url = public_url(reverse("bookings_console:detail", args=[booking.pk]))
    context = {
        "booking": booking,
        "tenant": booking.tenant,
        "service": booking.service,
        "local_start": booking.start_at.astimezone(tz),
        "local_end": booking.end_at.astimezone(tz),
        "timezone": booking.tenant.timezone,
        "hold_expired": booking.hold_expired,
        "console_url": console_url,
        # the booking page's "Record refund (given back offline)" form (``offline_refunds``)
        "record_refund_url": f"{console_url}#{RECORD_REFUND_ANCHOR}",
        "console_refund": refund_available(booking),
        "given_back_offline": kind == notifications.PAYMENT_REFUNDED and refunded_offline(booking),
    }
    recipients = tenant_recipients(booking) if kind in STAFF_EMAIL_KINDS else [booking.customer_email]
    if not recipients:
        return None
    partly_refunded = kind == notifications.PAYMENT_REFUNDED and booking.refunded_at is None
    subject = (PARTLY_REFUNDED_SUBJECT if partly_refunded else SUBJECTS[kind]).format(
        code=booking.confirmation_code,
        service=booking.service.name,
        amount=booking.refund_remaining_display,
        refunded=booking.refunded_display,
    )
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"bookings/email/{kind}.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=recipients,
    )
    message.attach_alternative(render_to_string(f"bookings/email/{kind}.html", context), "text/html")
    if kind in (notifications.CONFIRMATION, notifications.RESCHEDULE):
        message.attach(f"{booking.confirmation_code}.ics", calendar_file(booking), "text/calendar")
    return message
