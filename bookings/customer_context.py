"""Bookings' lines in a verified returning customer's context (``chat.customer_context``)."""

from __future__ import annotations

from django.db.models import Q

from bookings.availability import tenant_zone
from bookings.models import Booking
from chat.models import Conversation
from supportai.models import EndUser, Tenant

RECENT_BOOKINGS = 5
HOLD_RAN_OUT = " (not paid in time: the slot was released; the customer may book again)"


def booking_lines(tenant: Tenant, end_user: EndUser, conversation: Conversation) -> list[str]:
    """Newest bookings of this verified customer (by link or by the verified email)."""
    mine = Q(end_user=end_user)
    if end_user.email:
        mine |= Q(customer_email__iexact=end_user.email)
    bookings = (
        Booking.objects.for_tenant(tenant)
        .filter(mine)
        .select_related("service")
        .order_by("-start_at")[:RECENT_BOOKINGS]
    )
    tz = tenant_zone(tenant)
    lines = [
        f"- {b.confirmation_code}: {b.service.name} on {b.start_at.astimezone(tz):%Y-%m-%d %H:%M} "
        f"({tenant.timezone}), {b.shown_status_display.lower()}{HOLD_RAN_OUT if b.hold_ran_out else ''}"
        for b in bookings
    ]
    return ["Bookings (newest first; changes still need the code and email):", *lines] if lines else []
