"""Console pages for bookings: list with filters, day view, detail with history, staff actions.

Every page acts for the console's current tenant. Owners, admins and agents may create, cancel
and reschedule (through the same services the customer path uses); analysts only read. Refunds give
money back, so only owners and admins make them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from bookings import (
    availability,
    console_slots,
    no_shows,
    notifications,
    offline_refunds,
    payments,
    selectors,
    services,
)
from bookings.console_forms import BookingFilterForm, CancelForm, OfflineRefundForm, StaffBookingForm, StartForm
from bookings.dates import bookable_range_message, is_bookable_date
from bookings.models import Booking, BookingEvent, BookingEventKind, BookingSource, BookingStatus, price_text
from bookings.services import Actor, BookingError
from supportai.console.tenancy import TENANT_SWITCHED, require_manager, require_membership, switched_since_rendered
from supportai.models import Membership, Role

PAGE_SIZE = 30
BOOKING_ROLES = frozenset({Role.OWNER, Role.ADMIN, Role.AGENT})
READ_ONLY = "Analysts can look at bookings but not change them."
DAY_NOT_UNDERSTOOD = "The date “{typed}” was not understood (YYYY-MM-DD; {range}), so this is showing today."
REFUND_MANAGERS_ONLY = "Only the tenant's owners and admins can refund a payment."
# A payment Stripe never took is given back where it was paid and then recorded on the booking's page
# (``offline_refunds``): by the manager reading this, or by an owner or admin for an agent.
NOT_PAID_THROUGH_STRIPE = (
    "it was not paid through Stripe, so give it back where it was paid, then record it below with Record refund "
    "(given back offline)."
)
NOT_PAID_THROUGH_STRIPE_AGENT = (
    "it was not paid through Stripe, so it is given back where it was paid; an owner or admin then records that "
    "on this page (Record refund (given back offline))."
)


def require_booking_staff(membership: Membership) -> None:
    if membership.role not in BOOKING_ROLES:
        raise PermissionDenied(READ_ONLY)


def _booking_or_404(membership: Membership, pk: int) -> Booking:
    booking = selectors.booking_get(tenant=membership.tenant, pk=pk)
    if booking is None:
        raise Http404("No such booking")
    return booking


@login_required
def booking_list(request: HttpRequest) -> HttpResponse:
    membership = require_membership(request)
    tenant = membership.tenant
    form = BookingFilterForm(request.GET or None, services=list(selectors.service_list(tenant=tenant)))
    queryset = selectors.booking_list(tenant=tenant, filters=form.filters() if request.GET else None)
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    zone = availability.tenant_zone(tenant)
    rows = [(b, b.start_at.astimezone(zone)) for b in page]
    return render(
        request,
        "bookings/console/list.html",
        {"form": form, "page": page, "rows": rows, "tenant": tenant, "can_book": membership.role in BOOKING_ROLES},
    )


@login_required
def booking_day(request: HttpRequest) -> HttpResponse:
    membership = require_membership(request)
    tenant = membership.tenant
    zone = availability.tenant_zone(tenant)
    typed = request.GET.get("date", "")
    day: date | None
    try:
        day = date.fromisoformat(typed)
    except ValueError:
        day = None
    if day is None or not is_bookable_date(day):
        if typed:
            messages.warning(request, DAY_NOT_UNDERSTOOD.format(typed=typed[:40], range=bookable_range_message()))
        day = timezone.now().astimezone(zone).date()
    rows = [
        (b, b.start_at.astimezone(zone), b.end_at.astimezone(zone))
        for b in selectors.booking_day(tenant=tenant, day=day)
    ]
    context = {
        "day": day,
        "previous": day - timedelta(days=1),
        "next": day + timedelta(days=1),
        "rows": rows,
        "tenant": tenant,
    }
    return render(request, "bookings/console/day.html", context)


def refund_words(event: BookingEvent, booking: Booking) -> str:
    """What a "Refunded" event gave back and whether that refunded the payment in part or in full, as
    the widget and the customer's email word it: "30.00 EUR refunded, in part: 30.00 EUR of 95.00 EUR
    refunded", "95.00 EUR refunded, in full" ("" for another event, or one recorded without an amount)."""
    amount = event.data.get("amount_cents")
    if event.kind != BookingEventKind.REFUNDED or type(amount) is not int or amount <= 0:
        return ""
    given = f"{price_text(amount, booking.currency)} refunded"
    remaining = event.data.get("remaining_cents")
    if type(remaining) is int and remaining > 0:
        so_far = price_text(max(booking.price_cents - remaining, 0), booking.currency)
        return f"{given}, in part: {so_far} of {booking.price_display} refunded"
    if amount >= booking.price_cents:
        return f"{given}, in full"
    return f"{given}, in full: {booking.price_display} of {booking.price_display} refunded"


def _changeable(booking: Booking) -> bool:
    """Whether the booking's page offers staff the reschedule and cancel forms."""
    return booking.is_active and not booking.hold_lapsed


def _render_detail(
    request: HttpRequest,
    membership: Membership,
    booking: Booking,
    *,
    cancel_form: CancelForm,
    reschedule_form: StartForm | None = None,
    offline_refund_form: OfflineRefundForm | None = None,
    status: int = 200,
) -> HttpResponse:
    zone = availability.tenant_zone(membership.tenant)
    staff = membership.role in BOOKING_ROLES
    undo_until = no_shows.no_show_undo_until(booking) if staff else None
    context = {
        "booking": booking,
        "local_start": booking.start_at.astimezone(zone),
        "local_end": booking.end_at.astimezone(zone),
        "events": [
            (event, refund_words(event, booking))
            for event in selectors.booking_events(tenant=membership.tenant, booking=booking)
        ],
        "emails": selectors.booking_emails(tenant=membership.tenant, booking=booking),
        "can_retry_emails": staff,
        "cancel_form": cancel_form,
        "reschedule_form": StartForm() if reschedule_form is None else reschedule_form,
        "can_change": staff and _changeable(booking),
        "can_mark_no_show": staff and booking.no_show_markable,
        "can_record_payment": staff and booking.due_on_arrival,
        "can_refund": membership.can_manage and payments.refund_available(booking),
        "can_refund_offline": membership.can_manage and offline_refunds.offline_refundable(booking),
        "offline_refund_form": offline_refund_form or OfflineRefundForm(booking=booking),
        "no_show_undo_until": undo_until if undo_until is not None and undo_until > timezone.now() else None,
    }
    return render(request, "bookings/console/detail.html", context, status=status)


@login_required
def booking_detail(request: HttpRequest, pk: int) -> HttpResponse:
    membership = require_membership(request)
    return _render_detail(request, membership, _booking_or_404(membership, pk), cancel_form=CancelForm())


def _canceled_message(booking: Booking, membership: Membership) -> str:
    done = f"Booking {booking.confirmation_code} canceled; the customer was emailed."
    if not booking.refund_due:
        return done
    due = f"{done} The customer paid, so a refund of {booking.refund_remaining_display} is due"
    if not booking.paid_through_stripe:
        return f"{due}: {NOT_PAID_THROUGH_STRIPE if membership.can_manage else NOT_PAID_THROUGH_STRIPE_AGENT}"
    if not payments.refund_available(booking):
        return f"{due}: refund it in Stripe."
    if membership.can_manage:
        return f"{due}: refund it with the Refund button below."
    return f"{due}: an owner or admin can refund it from this page."


@login_required
@require_POST
def booking_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    membership = require_membership(request)
    require_booking_staff(membership)
    booking = _booking_or_404(membership, pk)
    form = CancelForm(request.POST)
    if not form.is_valid():  # cancel nothing: staff fix the reason and try again
        return _render_detail(request, membership, booking, cancel_form=form, status=400)
    try:
        booking = services.booking_cancel(
            tenant=membership.tenant,
            booking=booking,
            actor=Actor.staff(request.user),
            reason=form.cleaned_data["reason"],
        )
        messages.success(request, _canceled_message(booking, membership))
    except BookingError as exc:
        messages.error(request, exc.message)
    return redirect("bookings_console:detail", pk=booking.pk)


@login_required
@require_POST
def booking_reschedule(request: HttpRequest, pk: int) -> HttpResponse:
    membership = require_membership(request)
    require_booking_staff(membership)
    booking = _booking_or_404(membership, pk)
    form = StartForm(request.POST)
    start = console_slots.typed_start(form, membership.tenant) if form.is_valid() else None
    if start is None:  # unreadable, outside the bookable dates, no such local time, or passed
        if _changeable(booking):  # the page again with the form as typed, the error on its field
            return _render_detail(request, membership, booking, cancel_form=CancelForm(), reschedule_form=form)
        # no form on the page to show it on (canceled meanwhile): the message atop the page
        messages.error(request, " ".join(str(error) for errors in form.errors.values() for error in errors))
        return redirect("bookings_console:detail", pk=booking.pk)
    try:
        services.booking_reschedule(
            tenant=membership.tenant, booking=booking, start=start, actor=Actor.staff(request.user)
        )
        messages.success(request, f"Booking {booking.confirmation_code} moved; the customer was emailed.")
    except BookingError as exc:
        if form.names_field_of(exc) is None:
            messages.error(request, exc.message)
        else:  # a time nobody can book: why, on the time staff typed, to pick another
            form.add_booking_error(
                console_slots.slot_error(exc, tenant=membership.tenant, service=booking.service, start=start)
            )
            return _render_detail(request, membership, booking, cancel_form=CancelForm(), reschedule_form=form)
    return redirect("bookings_console:detail", pk=booking.pk)


def _staff_change(request: HttpRequest, pk: int, change: Callable[..., Booking], done: str) -> HttpResponse:
    """Apply a staff status change (a service taking ``tenant``, ``booking`` and ``actor``) and say how
    it went; ``done`` may name the booking's ``{code}``, new ``{status}`` and ``{price}``."""
    membership = require_membership(request)
    require_booking_staff(membership)
    booking = _booking_or_404(membership, pk)
    try:
        booking = change(tenant=membership.tenant, booking=booking, actor=Actor.staff(request.user))
        messages.success(
            request,
            done.format(
                code=booking.confirmation_code,
                status=booking.get_status_display().lower(),
                price=booking.price_display,
            ),
        )
    except BookingError as exc:
        messages.error(request, exc.message)
    return redirect("bookings_console:detail", pk=booking.pk)


@login_required
@require_POST
def booking_no_show(request: HttpRequest, pk: int) -> HttpResponse:
    return _staff_change(request, pk, no_shows.booking_mark_no_show, "Booking {code} marked as a no-show.")


@login_required
@require_POST
def booking_undo_no_show(request: HttpRequest, pk: int) -> HttpResponse:
    return _staff_change(
        request, pk, no_shows.booking_undo_no_show, "No-show undone: booking {code} is {status} again."
    )


@login_required
@require_POST
def booking_record_payment(request: HttpRequest, pk: int) -> HttpResponse:
    """The customer of a booking paid on arrival paid at the desk."""
    return _staff_change(
        request, pk, services.booking_record_payment, "Payment of {price} recorded for booking {code}."
    )


@login_required
@require_POST
def booking_refund(request: HttpRequest, pk: int) -> HttpResponse:
    """Give a canceled booking's online payment back through Stripe (owners and admins)."""
    membership = require_manager(request, REFUND_MANAGERS_ONLY)
    booking = _booking_or_404(membership, pk)
    try:
        result = payments.booking_refund(tenant=membership.tenant, booking=booking, actor=Actor.staff(request.user))
    except BookingError as exc:
        messages.error(request, exc.message)
    else:
        done = payments.ALREADY_REFUNDED if result.already_refunded else payments.REFUNDED
        messages.success(request, done.format(code=booking.confirmation_code, amount=result.amount_display))
    return redirect("bookings_console:detail", pk=booking.pk)


@login_required
@require_POST
def booking_refund_offline(request: HttpRequest, pk: int) -> HttpResponse:
    """Record a refund of a payment Stripe never took, given back by hand (owners and admins)."""
    membership = require_manager(request, REFUND_MANAGERS_ONLY)
    booking = _booking_or_404(membership, pk)
    form = OfflineRefundForm(request.POST, booking=booking)
    if form.is_valid():
        try:
            result = offline_refunds.booking_record_offline_refund(
                tenant=membership.tenant,
                booking=booking,
                actor=Actor.staff(request.user),
                amount_cents=form.cleaned_data["amount"],
                owed_cents=form.cleaned_data["owed"],
                note=form.cleaned_data["note"],
            )
        except BookingError as exc:
            if exc.field not in form.fields:
                messages.error(request, exc.message)
                return redirect("bookings_console:detail", pk=booking.pk)
            form.add_error(exc.field, exc.message)
        else:
            done = offline_refunds.ALREADY_RECORDED if result.already_recorded else offline_refunds.RECORDED
            messages.success(request, done.format(amount=result.amount_display, code=booking.confirmation_code))
            return redirect("bookings_console:detail", pk=booking.pk)
    if offline_refunds.offline_refundable(booking):  # the page again, the error on the field as typed
        return _render_detail(request, membership, booking, cancel_form=CancelForm(), offline_refund_form=form)
    # no form on the page to show the error on: why nothing can be recorded
    stripe_paid = booking.refund_due and booking.paid_through_stripe
    messages.error(request, offline_refunds.PAID_THROUGH_STRIPE if stripe_paid else offline_refunds.NO_REFUND_DUE)
    return redirect("bookings_console:detail", pk=booking.pk)


@login_required
@require_POST
def booking_email_retry(request: HttpRequest, pk: int, email_pk: int) -> HttpResponse:
    membership = require_membership(request)
    require_booking_staff(membership)
    booking = _booking_or_404(membership, pk)
    email = selectors.booking_email_get(tenant=membership.tenant, booking=booking, pk=email_pk)
    if email is None:
        raise Http404("No such email")
    try:
        notifications.booking_email_retry(tenant=membership.tenant, email=email)
        messages.success(request, f"The {email.get_kind_display().lower()} email will be sent again.")
    except notifications.EmailRetryError as exc:
        messages.error(request, str(exc))
    return redirect("bookings_console:detail", pk=booking.pk)


def _booked_message(booking: Booking) -> str:
    if booking.status == BookingStatus.PENDING:
        return f"Booked {booking.confirmation_code}; it waits for payment: send the customer the payment link below."
    if booking.paid_at is not None:
        return f"Booked {booking.confirmation_code}; payment recorded, the customer was emailed."
    return f"Booked {booking.confirmation_code}."


@login_required
def booking_new(request: HttpRequest) -> HttpResponse:
    membership = require_membership(request)
    require_booking_staff(membership)
    tenant = membership.tenant
    active = selectors.service_list(tenant=tenant).filter(active=True)
    form = StaffBookingForm(request.POST or None, services=active)
    if request.method == "POST" and switched_since_rendered(request, tenant):
        form.add_error(None, TENANT_SWITCHED.format(done="booked", tenant=tenant.name))
    elif request.method == "POST" and form.is_valid():
        start = console_slots.typed_start(form, tenant)
        if start is not None:
            actor = Actor.staff(request.user)
            try:
                with transaction.atomic():
                    booking = services.booking_create(
                        tenant=tenant,
                        service=form.cleaned_data["service"],
                        start=start,
                        name=form.cleaned_data["name"],
                        email=form.cleaned_data["email"],
                        notes=form.cleaned_data["notes"],
                        actor=actor,
                        source=BookingSource.CONSOLE,
                    )
                    if booking.price_cents > 0 and form.paid_offline():
                        booking = services.booking_mark_paid(booking=booking, actor=actor)
            except BookingError as exc:
                service = form.cleaned_data["service"]
                form.add_booking_error(console_slots.slot_error(exc, tenant=tenant, service=service, start=start))
            else:
                if payments.needs_checkout(booking):
                    payments.checkout_start(booking)
                messages.success(request, _booked_message(booking))
                return redirect("bookings_console:detail", pk=booking.pk)
    return render(request, "bookings/console/new.html", {"form": form, "tenant": tenant})
