"""Public booking pages: the test-mode checkout (no Stripe key, DEBUG only) and the return page."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_http_methods

from bookings import payments, services
from bookings.availability import tenant_zone
from bookings.models import BookingStatus

TEST_CHECKOUT_MAX_AGE_S = 24 * 3600
TEST_MODE = services.Actor("test-checkout")


@require_http_methods(["GET", "POST"])
def test_checkout(request: HttpRequest, token: str) -> HttpResponse:
    """A stand-in for Stripe Checkout so the demo can pay without a Stripe account."""
    if not settings.BOOKINGS_TEST_CHECKOUT:
        raise Http404("Test checkout is off")
    booking = payments.test_checkout_booking(token, max_age_s=TEST_CHECKOUT_MAX_AGE_S)
    if booking is None:
        raise Http404("Unknown or expired payment link")
    if request.method == "POST":
        if request.POST.get("action") == "pay":
            booking = services.booking_mark_paid(booking=booking, actor=TEST_MODE, session_id="")
        else:
            services.booking_release_hold(booking=booking, actor=TEST_MODE)
            booking.refresh_from_db()
    context = {
        "booking": booking,
        "local_start": booking.start_at.astimezone(tenant_zone(booking.tenant)),
        "payable": booking.status == BookingStatus.PENDING and booking.paid_at is None,
    }
    return render(request, "bookings/test_checkout.html", context)


@require_GET
def checkout_done(request: HttpRequest) -> HttpResponse:
    paid = request.GET.get("status") == "paid"
    return render(request, "bookings/checkout_done.html", {"paid": paid})
