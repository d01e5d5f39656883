"""Admin: the catalogue is editable per tenant; bookings change only through services (an action)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db import IntegrityError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse

from bookings import services
from bookings.catalog import service_deletion_refusal
from bookings.console_forms import ServiceForm
from bookings.models import (
    BLACKOUT_UNIQUE_DATE,
    RULE_UNIQUE_HOURS,
    AvailabilityRule,
    BlackoutDate,
    Booking,
    BookingEmail,
    BookingEvent,
    Proposal,
    Service,
    StripeEvent,
)
from supportai.admin_mixins import GuardedDeleteModelAdmin, TenantScopedModelAdmin, TenantScopedReadOnlyInline


class ServiceAdminForm(ServiceForm):
    """The console's service form with the tenant: the price typed in the currency's units ("45.50"
    EUR, "1500" JPY), stored in the smallest unit (``Service.price_cents``), as staff type it there."""

    class Meta(ServiceForm.Meta):
        fields = ["tenant", *ServiceForm.Meta.fields]


@admin.register(Service)
class ServiceAdmin(GuardedDeleteModelAdmin, TenantScopedModelAdmin):
    """A service with bookings is not deleted here (``service_deletion_refusal`` says why); its
    tenant's deletion takes it."""

    form = ServiceAdminForm
    list_display = (
        "name",
        "tenant",
        "duration_minutes",
        "buffer_minutes",
        "price_shown",
        "currency",
        "payment",
        "active",
    )
    list_filter = ("active", "payment")
    list_select_related = ("tenant",)
    search_fields = ("name",)

    @admin.display(description="Price", ordering="price_cents")
    def price_shown(self, service: Service) -> str:
        """``"45.50 EUR"``, ``"1500 JPY"`` or ``"Free"``, as the console shows it."""
        return service.price_display

    def deletion_refusal(self, request: HttpRequest, queryset: QuerySet[Service]) -> str | None:
        return service_deletion_refusal(queryset)


class DuplicateRefusedAdmin(TenantScopedModelAdmin):
    """A model whose unique constraint ``unique_constraint`` its ``validate_constraints`` says on a field:
    a save that meets the constraint (another request saved the same row after the form's check) shows
    the form again, whose check now finds the row and says so, instead of a 500."""

    unique_constraint: str

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except IntegrityError as exc:  # its transaction rolled back: nothing was saved
            if self.unique_constraint not in str(exc):
                raise
        # the same row was committed meanwhile: the form's check finds it now and says so
        return super().changeform_view(request, object_id, form_url, extra_context)


@admin.register(AvailabilityRule)
class AvailabilityRuleAdmin(DuplicateRefusedAdmin):
    """The same hours twice are refused on the form's opening time (``AvailabilityRule.validate_constraints``),
    also when another request saved them between the form's check and its save."""

    unique_constraint = RULE_UNIQUE_HOURS
    list_display = ("tenant", "service", "weekday", "start_time", "end_time", "capacity")
    list_filter = ("weekday",)
    list_select_related = ("tenant", "service")


@admin.register(BlackoutDate)
class BlackoutDateAdmin(DuplicateRefusedAdmin):
    """The same closed date twice is refused on the form's date (``BlackoutDate.validate_constraints``),
    also when another request saved it between the form's check and its save."""

    unique_constraint = BLACKOUT_UNIQUE_DATE
    list_display = ("date", "tenant", "service", "reason")
    list_select_related = ("tenant", "service")


class ReadOnlyAdmin(TenantScopedModelAdmin):
    """Rows written by services only: staff may look, never edit or delete here."""

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class BookingEventInline(TenantScopedReadOnlyInline):
    model = BookingEvent
    fields = ("created_at", "kind", "actor", "data")


class BookingEmailInline(TenantScopedReadOnlyInline):
    """Each email's state; staff send a failed one again from the console booking page."""

    model = BookingEmail
    fields = ("created_at", "kind", "status", "attempts", "next_attempt_at", "sent_at", "failure", "last_error")


@admin.register(Booking)
class BookingAdmin(ReadOnlyAdmin):
    list_display = (
        "confirmation_code",
        "tenant",
        "service",
        "start_at",
        "status",
        "customer_email",
        "source",
        "paid_at",
    )
    list_filter = ("status", "source")
    list_select_related = ("tenant", "service")
    search_fields = ("confirmation_code", "customer_email", "customer_name")
    inlines = [BookingEventInline, BookingEmailInline]
    actions = ["cancel_bookings"]

    @admin.action(description="Cancel selected bookings (emails the customers)")
    def cancel_bookings(self, request: HttpRequest, queryset: QuerySet[Booking]) -> None:
        managed = self._managed_tenant_ids(request)
        done = 0
        for booking in queryset.select_related("tenant", "service"):
            if not request.user.is_superuser and booking.tenant_id not in managed:
                continue
            try:
                services.booking_cancel(
                    tenant=booking.tenant,
                    booking=booking,
                    actor=services.Actor.staff(request.user),
                    reason="Canceled by staff",
                )
                done += 1
            except services.BookingError as exc:
                self.message_user(request, f"{booking.confirmation_code}: {exc.message}", messages.WARNING)
        self.message_user(request, f"Canceled {done} booking(s).")


@admin.register(Proposal)
class ProposalAdmin(ReadOnlyAdmin):
    list_display = ("public_id", "tenant", "action", "level", "status", "created_at", "expires_at")
    list_filter = ("status", "action", "level")
    list_select_related = ("tenant",)


@admin.register(BookingEvent)
class BookingEventAdmin(ReadOnlyAdmin):
    list_display = ("booking", "tenant", "kind", "actor", "created_at")
    list_filter = ("kind",)
    list_select_related = ("tenant", "booking")


@admin.register(StripeEvent)
class StripeEventAdmin(admin.ModelAdmin):
    """Platform-wide (one Stripe account): superusers only."""

    list_display = ("event_id", "type", "booking", "outcome", "received_at")
    list_filter = ("type",)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
