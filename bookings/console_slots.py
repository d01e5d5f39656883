"""The time staff type on the console's booking forms, and why it cannot be booked, in staff's words,
for the time field: a time the zone skips or that has passed before the slot check, then the slot
check's reason (``availability.unavailable_reason``). The customer's message, ``services.SLOT_TAKEN``,
is shared with the public API and stays the same for every reason."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from bookings import availability
from bookings.availability import Unavailable
from bookings.console_forms import StartForm
from bookings.models import Service
from bookings.services import SLOT_UNAVAILABLE, BookingError
from supportai.models import Tenant

BAD_TIME = "That time is not valid in the business's time zone."
PAST_START = "That time has passed: it is {now} in {zone} now. Choose a later time."
CLOSED = "The business is closed on {day} (a closed date in Services & hours). Choose another day."
OUTSIDE_HOURS = (
    "{time} is outside the opening hours on {weekday} for this service (a booking must also end within them). "
    "Choose a time within them."
)
OFF_STEP = "This service starts every {step} minutes; {time} is between two start times: choose {before} or {after}."
PAST = "That time has passed. Choose a later time."
FULL = "That time is fully booked. Choose another time."


def typed_start(form: StartForm, tenant: Tenant) -> datetime | None:
    """The start staff typed on the valid ``form``, aware; None with the reason on its time field when
    the time does not exist in the tenant's zone or has passed (the slot check would only call it taken)."""
    start = availability.parse_local_start(form.local_start(), tenant=tenant)
    if start is None:
        form.add_error("time", BAD_TIME)
        return None
    now = timezone.now()
    if start <= now:
        local_now = f"{now.astimezone(availability.tenant_zone(tenant)):%Y-%m-%d %H:%M}"
        form.add_error("time", PAST_START.format(now=local_now, zone=tenant.timezone))
        return None
    return start


def slot_error(error: BookingError, *, tenant: Tenant, service: Service, start: datetime) -> BookingError:
    """``error`` with the reason in staff's words when it is a time nobody can book; any other as it is."""
    if error.code != SLOT_UNAVAILABLE:
        return error
    reason = availability.unavailable_reason(tenant=tenant, service=service, start=start)
    zone = availability.tenant_zone(tenant)
    local = start.astimezone(zone)
    if reason.kind == Unavailable.CLOSED:
        message = CLOSED.format(day=f"{local:%Y-%m-%d}")
    elif reason.kind == Unavailable.OUTSIDE_HOURS:
        message = OUTSIDE_HOURS.format(time=f"{local:%H:%M}", weekday=f"{local:%A}s")
    elif reason.kind == Unavailable.OFF_STEP:
        before, after = (f"{neighbour.astimezone(zone):%H:%M}" for neighbour in reason.neighbours)
        message = OFF_STEP.format(step=service.slot_step_minutes, time=f"{local:%H:%M}", before=before, after=after)
    else:
        message = PAST if reason.kind == Unavailable.PAST else FULL
    return BookingError(error.code, message, field=error.field)
