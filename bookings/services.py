"""Writes for bookings: create, cancel, reschedule, payment state. The only way bookings change
(with ``bookings.no_shows`` and ``bookings.refund_records``, which build on it).

Every write that takes capacity runs in a transaction holding the pool's advisory lock
(``availability.lock_pool``) and re-checks the slot under it, so concurrent confirmations for the
last place give exactly one booking. Every change appends a ``BookingEvent``; its emails are recorded
with it and sent by Celery after the commit (``notifications.notify``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from bookings import availability, notifications
from bookings.codes import generate_code, looks_like_code, normalize_code
from bookings.models import (
    ACTIVE_STATUSES,
    HOLD_EXPIRED_REASON,
    Booking,
    BookingEvent,
    BookingEventKind,
    BookingSource,
    BookingStatus,
    Proposal,
    Service,
)
from bookings.phrases import BookingText, english
from chat.models import Conversation
from supportai.models import EndUser, Tenant
from supportai.transactions import on_commit_robust

NOT_FOUND = "not_found"
SLOT_UNAVAILABLE = "slot_unavailable"
INVALID = "invalid"
NOT_CHANGEABLE = "not_changeable"
CHANGED = "changed"
GENERIC_NOT_FOUND = english(BookingText.BOOKING_NOT_FOUND)
SLOT_TAKEN = english(BookingText.SLOT_TAKEN)
SERVICE_NOT_FOUND = english(BookingText.SERVICE_NOT_FOUND)
DEFAULT_HOLD_MINUTES = 30
CODE_ATTEMPTS = 5
NOT_UPCOMING = english(BookingText.NOT_UPCOMING)
# The widget says the same of such a booking ("Not paid in time: this time was released", "Book again").
HOLD_RAN_OUT = english(BookingText.HOLD_RAN_OUT)
NOT_PAYABLE_ON_ARRIVAL = "Only a confirmed or completed booking paid on arrival and not paid yet can be recorded paid."


class BookingError(Exception):
    """A booking request that cannot be done; ``code`` is one of the module constants, ``field`` the
    request's field that is wrong when one is (named as the widget's ``booking.propose`` frame names it:
    ``service_id``, ``start``, ``name``, ``email``, ``notes``).

    ``message`` is English. An error the customer may read is raised with its sentence (``of``): ``text``
    and ``params`` say it in their language (``bookings/phrases/``); staff-only errors have none."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        field: str = "",
        text: BookingText | None = None,
        params: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        self.text = text
        self.params: Mapping[str, object] = params or {}

    @classmethod
    def of(cls, code: str, text: BookingText, /, *, field: str = "", **params: object) -> BookingError:
        """The error whose message is the sentence ``text``, in English here (``text.say`` for others)."""
        return cls(code, english(text, **params), field=field, text=text, params=params)


@dataclass(frozen=True)
class Actor:
    """Who makes a change: ``customer``, ``staff:<username>``, ``stripe`` or ``system``."""

    label: str
    staff_user: AbstractBaseUser | None = None

    @classmethod
    def staff(cls, user: AbstractBaseUser | AnonymousUser) -> Actor:
        if not isinstance(user, AbstractBaseUser):
            raise ValueError("staff actions need an authenticated user")
        return cls(label=f"staff:{user.get_username()}", staff_user=user)


CUSTOMER = Actor("customer")
STRIPE = Actor("stripe")
SYSTEM = Actor("system")


def hold_minutes() -> int:
    minutes: int = getattr(settings, "BOOKINGS_HOLD_MINUTES", DEFAULT_HOLD_MINUTES)
    return minutes


def event_record(
    booking: Booking, kind: BookingEventKind, actor: Actor, *, proposal: Proposal | None = None, **data: Any
) -> BookingEvent:
    staff = actor.staff_user
    return BookingEvent.objects.create(
        tenant_id=booking.tenant_id,
        booking=booking,
        kind=kind,
        actor=actor.label,
        staff_user_id=staff.pk if staff is not None else None,
        proposal=proposal,
        data=data,
    )


def service_get_active(*, tenant: Tenant, service_id: int) -> Service:
    service = Service.objects.for_tenant(tenant).filter(pk=service_id, active=True).first()
    if service is None:
        raise BookingError.of(NOT_FOUND, BookingText.SERVICE_NOT_FOUND, field="service_id")
    return service


def ensure_upcoming(booking: Booking) -> None:
    """Refuse to change a booking whose start has passed (it happened, or is happening)."""
    if booking.start_at <= timezone.now():
        raise BookingError.of(NOT_CHANGEABLE, BookingText.NOT_UPCOMING)


def ensure_hold_not_run_out(booking: Booking) -> None:
    """Refuse to change a booking whose unpaid hold ran out: released, or reading released until
    housekeeping releases it (``Booking.hold_ran_out``); the customer books the service again."""
    if booking.hold_ran_out:
        raise BookingError.of(NOT_CHANGEABLE, BookingText.HOLD_RAN_OUT)


def clean_customer(*, name: str, email: str) -> tuple[str, str]:
    name = " ".join(name.split())[:200]
    email = email.strip().lower()
    if not name:
        raise BookingError.of(INVALID, BookingText.NAME_MISSING, field="name")
    try:
        validate_email(email)
    except ValidationError:
        raise BookingError.of(INVALID, BookingText.BAD_EMAIL, field="email") from None
    return name, email


def _end_user_for(*, tenant: Tenant, conversation: Conversation | None) -> EndUser | None:
    if conversation is not None and conversation.end_user_id:
        return EndUser.objects.for_tenant(tenant).filter(pk=conversation.end_user_id).first()
    return None


def _insert_booking(**fields: Any) -> Booking:
    """Insert with a fresh confirmation code (another on the ~1 in 10^8 collision)."""
    for _ in range(CODE_ATTEMPTS):
        try:
            with transaction.atomic():
                return Booking.objects.create(confirmation_code=generate_code(), **fields)
        except IntegrityError as exc:
            if "confirmation_code" not in str(exc):
                raise
    raise RuntimeError("could not allocate a unique confirmation code")


@transaction.atomic
def booking_create(
    *,
    tenant: Tenant,
    service: Service,
    start: datetime,
    name: str,
    email: str,
    actor: Actor,
    source: BookingSource = BookingSource.CHATBOT,
    notes: str = "",
    conversation: Conversation | None = None,
    proposal: Proposal | None = None,
) -> Booking:
    """Book ``service`` at ``start`` if the slot is still free (checked under the pool lock).

    Free services and those paid on arrival are CONFIRMED at once; ones paid online are PENDING with a
    hold until paid (the caller starts the checkout after the commit).
    """
    if service.tenant_id != tenant.pk or not service.active:
        raise BookingError.of(NOT_FOUND, BookingText.SERVICE_NOT_FOUND, field="service_id")
    name, email = clean_customer(name=name, email=email)
    availability.lock_pool(service)
    slot = availability.slot_at(tenant=tenant, service=service, start=start)
    if slot is None:
        raise BookingError.of(SLOT_UNAVAILABLE, BookingText.SLOT_TAKEN, field="start")
    now = timezone.now()
    online = service.is_paid_online
    booking = _insert_booking(
        tenant=tenant,
        service=service,
        end_user=_end_user_for(tenant=tenant, conversation=conversation),
        conversation=conversation,
        customer_name=name,
        customer_email=email,
        start_at=slot.start,
        end_at=slot.end,
        blocked_until=slot.end + timedelta(minutes=service.buffer_minutes),
        status=BookingStatus.PENDING if online else BookingStatus.CONFIRMED,
        hold_expires_at=now + timedelta(minutes=hold_minutes()) if online else None,
        source=source,
        price_cents=service.price_cents,
        currency=service.currency,
        payment=service.payment,
        notes=notes[:2000],
    )
    event_record(booking, BookingEventKind.CREATED, actor, proposal=proposal, start=slot.start.isoformat())
    if not online:
        notifications.notify(booking, notifications.CONFIRMATION)
        notifications.notify(booking, notifications.TENANT_NEW_BOOKING)
    return booking


def booking_lock(booking: Booking) -> Booking:
    """The booking again, its row locked until the transaction ends (writes re-check state under it)."""
    locked: Booking = (
        Booking.objects.select_for_update(of=("self",)).select_related("service", "tenant").get(pk=booking.pk)
    )
    return locked


@transaction.atomic
def booking_cancel(
    *, tenant: Tenant, booking: Booking, actor: Actor, reason: str = "", proposal: Proposal | None = None
) -> Booking:
    """Cancel an upcoming booking (idempotent): the customer is emailed and, after the commit, an open
    Checkout Session of an unpaid booking is expired (``payments.checkout_expire``). A paid booking
    Stripe has not refunded gets ``refund_due`` on its CANCELED event: nothing refunds it automatically,
    an owner or admin does from its console page (``payments.booking_refund``) or in Stripe (the
    customer is told the payment will be refunded, staff get the refund-due notice)."""
    if booking.tenant_id != tenant.pk:
        raise BookingError.of(NOT_FOUND, BookingText.BOOKING_NOT_FOUND)
    booking = booking_lock(booking)
    ensure_hold_not_run_out(booking)
    if booking.status == BookingStatus.CANCELED:
        return booking  # already done: cancel is idempotent
    if booking.status not in ACTIVE_STATUSES:
        raise BookingError.of(NOT_CHANGEABLE, BookingText.CANNOT_CANCEL)
    ensure_upcoming(booking)
    booking.status = BookingStatus.CANCELED
    booking.cancel_reason = reason[:300]
    booking.updated_at = timezone.now()
    booking.save(update_fields=["status", "cancel_reason", "updated_at"])
    refund: dict[str, bool] = {"refund_due": True} if booking.refund_due else {}
    event_record(booking, BookingEventKind.CANCELED, actor, proposal=proposal, reason=reason[:300], **refund)
    notifications.notify(booking, notifications.CANCELLATION)
    if booking.refund_due:
        notifications.notify(booking, notifications.TENANT_REFUND_DUE)
    from bookings.payments import checkout_expire  # payments builds on this module

    # Whoever cancels, an open Checkout Session must stop taking money; Stripe is called after the
    # commit (never for a rolled-back cancel), and a failure there must not undo or fail the cancel.
    on_commit_robust(checkout_expire, booking)
    return booking


@transaction.atomic
def booking_reschedule(
    *, tenant: Tenant, booking: Booking, start: datetime, actor: Actor, proposal: Proposal | None = None
) -> Booking:
    if booking.tenant_id != tenant.pk:
        raise BookingError.of(NOT_FOUND, BookingText.BOOKING_NOT_FOUND)
    service = booking.service
    availability.lock_pool(service)
    booking = booking_lock(booking)
    ensure_hold_not_run_out(booking)
    if booking.status not in ACTIVE_STATUSES:
        raise BookingError.of(NOT_CHANGEABLE, BookingText.CANNOT_RESCHEDULE)
    ensure_upcoming(booking)
    if booking.start_at == start:
        return booking
    slot = availability.slot_at(tenant=tenant, service=service, start=start, exclude_booking=booking)
    if slot is None:
        raise BookingError.of(SLOT_UNAVAILABLE, BookingText.SLOT_TAKEN, field="start")
    previous = booking.start_at
    booking.start_at, booking.end_at = slot.start, slot.end
    booking.blocked_until = slot.end + timedelta(minutes=service.buffer_minutes)
    booking.updated_at = timezone.now()
    booking.save(update_fields=["start_at", "end_at", "blocked_until", "updated_at"])
    event_record(
        booking,
        BookingEventKind.RESCHEDULED,
        actor,
        proposal=proposal,
        previous=previous.isoformat(),
        start=slot.start.isoformat(),
    )
    notifications.notify(booking, notifications.RESCHEDULE)
    return booking


def booking_find_owned(*, tenant: Tenant, code: str, email: str) -> Booking:
    """The tenant's booking with this code AND this email; one generic error for any mismatch."""
    code = normalize_code(code)
    email = email.strip().lower()
    booking = None
    if looks_like_code(code) and email:
        booking = (
            Booking.objects.for_tenant(tenant)
            .select_related("service")
            .filter(confirmation_code=code, customer_email__iexact=email)
            .first()
        )
    if booking is None:
        raise BookingError.of(NOT_FOUND, BookingText.BOOKING_NOT_FOUND)
    return booking


@transaction.atomic
def booking_record_checkout(*, booking: Booking, session_id: str, url: str) -> Booking:
    booking = booking_lock(booking)
    booking.stripe_checkout_session_id = session_id
    booking.checkout_url = url
    booking.updated_at = timezone.now()
    booking.save(update_fields=["stripe_checkout_session_id", "checkout_url", "updated_at"])
    event_record(booking, BookingEventKind.PAYMENT_STARTED, SYSTEM, session=session_id)
    return booking


@transaction.atomic
def booking_mark_paid(*, booking: Booking, actor: Actor, payment_intent: str = "", session_id: str = "") -> Booking:
    """Payment arrived. Idempotent. A payment for a hold that ran out (released or not yet) re-takes the
    slot if it is still free; otherwise the booking ends CANCELED with ``hold_expired`` set, the event
    says a refund is due, the customer gets the "refund due" email instead of "payment received" and
    staff get the refund-due notice (the same when a customer pays a booking they had canceled)."""
    service = booking.service
    availability.lock_pool(service)
    booking = booking_lock(booking)
    if booking.paid_at is not None:
        return booking
    now = timezone.now()
    booking.paid_at = now
    booking.stripe_payment_intent_id = payment_intent or booking.stripe_payment_intent_id
    booking.stripe_checkout_session_id = session_id or booking.stripe_checkout_session_id
    fields = [
        "paid_at",
        "stripe_payment_intent_id",
        "stripe_checkout_session_id",
        "updated_at",
        "status",
        "hold_expires_at",
    ]
    pending = booking.status == BookingStatus.PENDING
    # Only the system's release counts: the cancel reason is text a customer can type.
    released = booking.status == BookingStatus.CANCELED and booking.hold_expired
    if pending or released:
        holding = pending and booking.holds_slot(now)
        if holding or availability.slot_at(
            tenant=booking.tenant, service=service, start=booking.start_at, now=now, exclude_booking=booking
        ):
            booking.status, booking.cancel_reason, booking.hold_expired = BookingStatus.CONFIRMED, "", False
        else:  # the hold ran out and the slot is gone (retaken, or past): the booking is lost, the payment refunded
            booking.status, booking.cancel_reason, booking.hold_expired = (
                BookingStatus.CANCELED,
                HOLD_EXPIRED_REASON,
                True,
            )
        booking.hold_expires_at = None
        fields += ["cancel_reason", "hold_expired"]
    booking.updated_at = now
    booking.save(update_fields=fields)
    kept = booking.status != BookingStatus.CANCELED
    if pending and not kept:
        event_record(booking, BookingEventKind.HOLD_RELEASED, actor)
    event_record(booking, BookingEventKind.PAID, actor, payment_intent=payment_intent, refund_due=not kept)
    if not kept:
        notifications.notify(booking, notifications.PAYMENT_REFUND_DUE)
        notifications.notify(booking, notifications.TENANT_REFUND_DUE)
        return booking
    notifications.notify(booking, notifications.PAYMENT_RECEIVED)
    if pending or released:  # confirmed by this payment (one paid on arrival was confirmed when booked)
        event_record(booking, BookingEventKind.CONFIRMED, actor)
        notifications.notify(booking, notifications.CONFIRMATION)
        notifications.notify(booking, notifications.TENANT_NEW_BOOKING)
    return booking


@transaction.atomic
def booking_record_payment(*, tenant: Tenant, booking: Booking, actor: Actor) -> Booking:
    """Staff record that the customer paid a booking paid on arrival (at the desk: cash, card terminal).

    Only an unpaid one that is confirmed or completed (paid after the visit); the customer gets the
    payment-received email."""
    if booking.tenant_id != tenant.pk:
        raise BookingError.of(NOT_FOUND, BookingText.BOOKING_NOT_FOUND)
    booking = booking_lock(booking)
    if not booking.due_on_arrival:
        raise BookingError(NOT_CHANGEABLE, NOT_PAYABLE_ON_ARRIVAL)
    return booking_mark_paid(booking=booking, actor=actor)


@transaction.atomic
def booking_release_hold(*, booking: Booking, actor: Actor) -> bool:
    """Release an unpaid PENDING booking (checkout expired or hold ran out). False if nothing to do."""
    booking = booking_lock(booking)
    if booking.status != BookingStatus.PENDING or booking.paid_at is not None:
        return False
    booking.status = BookingStatus.CANCELED
    booking.cancel_reason = HOLD_EXPIRED_REASON
    booking.hold_expired = True
    booking.updated_at = timezone.now()
    booking.save(update_fields=["status", "cancel_reason", "hold_expired", "updated_at"])
    event_record(booking, BookingEventKind.HOLD_RELEASED, actor)
    return True


@transaction.atomic
def booking_complete(*, booking: Booking, actor: Actor) -> bool:
    """Mark a CONFIRMED booking whose end has passed COMPLETED. False if nothing to do."""
    booking = booking_lock(booking)
    now = timezone.now()
    if booking.status != BookingStatus.CONFIRMED or booking.end_at > now:
        return False
    booking.status = BookingStatus.COMPLETED
    booking.updated_at = now
    booking.save(update_fields=["status", "updated_at"])
    event_record(booking, BookingEventKind.NOTE, actor, status=BookingStatus.COMPLETED)
    return True
