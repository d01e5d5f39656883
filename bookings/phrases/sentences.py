"""The shape of the booking sentences table: which sentences there are (``BookingText``) and the
sentences of one language (``BookingPhrases``); the languages' rows are in ``european.py``, ``romance.py``,
``asian.py`` and ``arabic.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class BookingText(StrEnum):
    """Which sentence: the name of a ``BookingPhrases`` field."""

    BOOKING_NOT_FOUND = "booking_not_found"
    SLOT_TAKEN = "slot_taken"
    SERVICE_NOT_FOUND = "service_not_found"
    NOT_UPCOMING = "not_upcoming"
    HOLD_RAN_OUT = "hold_ran_out"
    CANNOT_CANCEL = "cannot_cancel"
    NOTHING_TO_CANCEL = "nothing_to_cancel"
    CANNOT_RESCHEDULE = "cannot_reschedule"
    NAME_MISSING = "name_missing"
    BAD_EMAIL = "bad_email"
    BAD_START = "bad_start"
    TOO_MANY_ATTEMPTS = "too_many_attempts"
    CANNOT_COUNT = "cannot_count"
    PROPOSAL_NOT_FOUND = "proposal_not_found"
    DETAILS_CHANGED = "details_changed"
    NO_ONLINE_PAYMENT = "no_online_payment"
    DATES_OUT_OF_RANGE = "dates_out_of_range"
    NOT_A_DATE = "not_a_date"
    NOT_A_TIME = "not_a_time"
    DAYS_RANGE = "days_range"
    UNKNOWN_FRAME = "unknown_frame"
    NOT_A_DECISION = "not_a_decision"
    PROPOSAL_EXPIRED = "proposal_expired"
    NOTHING_CHANGED = "nothing_changed"
    SUMMARY_BOOK = "summary_book"
    SUMMARY_CANCEL = "summary_cancel"
    SUMMARY_RESCHEDULE = "summary_reschedule"
    PRICE_ONLINE = "price_online"
    PRICE_AT_VENUE = "price_at_venue"
    BOOKED = "booked"
    HELD_UNTIL_PAID = "held_until_paid"
    CANCELED = "canceled"
    MOVED = "moved"

    def say(self, language: str, /, **params: object) -> str:
        """This sentence in ``language`` (English when it has no row), its placeholders filled from ``params``."""
        from bookings.phrases import booking_message  # the package's rows import this module

        return booking_message(self, language=language, **params)


@dataclass(frozen=True)
class BookingPhrases:
    # The errors of the booking actions (``bookings.services``, ``actions``, ``proposals``), also a failed
    # proposal's ``proposal.result`` message.
    booking_not_found: str  # services.GENERIC_NOT_FOUND: code and email name no booking (one error for both)
    slot_taken: str  # services.SLOT_TAKEN: the slot is taken, closed or past
    service_not_found: str  # services.SERVICE_NOT_FOUND: no active service of the tenant by that id
    not_upcoming: str  # services.NOT_UPCOMING: the booking has started
    hold_ran_out: str  # services.HOLD_RAN_OUT: an unpaid hold ran out
    cannot_cancel: str  # canceling a booking that is no longer active
    nothing_to_cancel: str  # proposing to cancel a booking that is not active
    cannot_reschedule: str  # rescheduling (or proposing to) a booking that is not active
    name_missing: str  # field "name"
    bad_email: str  # field "email"
    bad_start: str  # actions: a start that is no local time of the tenant's (field "start")
    too_many_attempts: str  # limits.TOO_MANY: too many failed code + email proofs
    cannot_count: str  # limits.CANNOT_COUNT: the cache that counts the proofs is down
    proposal_not_found: str  # proposals.PROPOSAL_NOT_FOUND
    details_changed: str  # proposals.DETAILS_CHANGED: the service's price or length changed since proposed
    no_online_payment: str  # proposals.NO_ONLINE_PAYMENT
    # The booking frames' own validation (``bookings.protocol``, ``bookings.widget``, ``bookings.public_api``)
    dates_out_of_range: str  # {first}, {last}: ISO dates (dates.bookable_range)
    not_a_date: str  # {field}
    not_a_time: str  # {field}
    days_range: str  # {limit}: the most days a booking.slots frame may ask for
    unknown_frame: str  # a booking frame the widget module does not handle
    not_a_decision: str  # a proposal endpoint's body that is no proposal decision
    # The ``proposal.result`` message of a decision that changed nothing
    proposal_expired: str
    nothing_changed: str  # the customer rejected the proposal
    # A ``proposal`` frame's ``summary`` (``proposals.booking_propose_*``): {service} its name, {when} and the
    # reschedule's {old} / {new} times as ``dates.said_time`` says them, {code} the confirmation code
    summary_book: str  # {service}, {when}, {name}, {email}
    summary_cancel: str  # {service}, {when}, {code}
    summary_reschedule: str  # {service}, {code}, {old}, {new}
    # The sentence on paying after a paid service's summary_book, {price} as ``Service.price_display``
    price_online: str
    price_at_venue: str  # also an executed booking's ``pay_terms`` when paid at the venue
    # The ``proposal.result`` message of an executed decision, {code} the confirmation code, {when} the new
    # time as ``dates.said_time`` says it
    booked: str  # {code}: booked (confirmed)
    held_until_paid: str  # {code}: booked, held until paid online
    canceled: str
    moved: str  # {when}
