"""Bookable services, their availability, bookings, customer-confirmed proposals and audit history.

State changes go through ``bookings.services`` only; these models hold data and small derived
properties. Times are stored in UTC; availability rules are wall-clock times in the tenant's time
zone (``Tenant.timezone``), converted per date so that slots stay correct across DST changes.

One module per part: ``catalogue`` (services, hours, closed dates), ``booking``, ``proposals`` (with
the audit history), ``stripe_events`` and ``emails``; every name is importable from here.
"""

from __future__ import annotations

from bookings.models.booking import (
    ACTIVE_STATUSES,
    HOLD_EXPIRED_REASON,
    NO_SHOW_FROM,
    PAYABLE_ON_ARRIVAL,
    REFUND_DUE,
    REFUND_IN_FLIGHT,
    Booking,
    BookingSource,
    BookingStatus,
    lapsed_holds,
)
from bookings.models.catalogue import (
    BLACKOUT_UNIQUE_DATE,
    RULE_DUPLICATE,
    RULE_UNIQUE_HOURS,
    AvailabilityRule,
    BlackoutDate,
    PaymentMode,
    Service,
    Weekday,
    price_text,
)
from bookings.models.emails import STAFF_EMAIL_KINDS, BookingEmail, EmailFailure, EmailKind, EmailStatus
from bookings.models.proposals import (
    FINAL_PROPOSAL_STATUSES,
    BookingEvent,
    BookingEventKind,
    ConfirmationLevel,
    Proposal,
    ProposalAction,
    ProposalStatus,
)
from bookings.models.stripe_events import STRIPE_NO_BOOKING, StripeEvent

__all__ = [
    "ACTIVE_STATUSES",
    "BLACKOUT_UNIQUE_DATE",
    "FINAL_PROPOSAL_STATUSES",
    "HOLD_EXPIRED_REASON",
    "NO_SHOW_FROM",
    "PAYABLE_ON_ARRIVAL",
    "REFUND_DUE",
    "REFUND_IN_FLIGHT",
    "RULE_DUPLICATE",
    "RULE_UNIQUE_HOURS",
    "STAFF_EMAIL_KINDS",
    "STRIPE_NO_BOOKING",
    "AvailabilityRule",
    "BlackoutDate",
    "Booking",
    "BookingEmail",
    "BookingEvent",
    "BookingEventKind",
    "BookingSource",
    "BookingStatus",
    "ConfirmationLevel",
    "EmailFailure",
    "EmailKind",
    "EmailStatus",
    "PaymentMode",
    "Proposal",
    "ProposalAction",
    "ProposalStatus",
    "Service",
    "StripeEvent",
    "Weekday",
    "lapsed_holds",
    "price_text",
]
