"""Console pages for the booking catalogue: services, weekly hours and blackout dates (owners/admins)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from bookings import catalog, payments, selectors
from bookings.console_forms import BlackoutForm, RuleForm, ServiceForm
from bookings.models import AvailabilityRule, BlackoutDate, Service
from bookings.services import BookingError
from supportai.console.tenancy import TENANT_SWITCHED, require_manager, require_membership, switched_since_rendered
from supportai.models import Membership

NOT_MANAGER = "Only owners and admins can change services and opening hours."
NO_ONLINE_PAYMENT = (
    "This service is paid online, but online payment is not set up (STRIPE_SECRET_KEY), so customers cannot "
    "book it: set up Stripe, or choose payment on arrival."
)


def _render_catalog(
    request: HttpRequest,
    membership: Membership,
    *,
    rule_form: RuleForm | None = None,
    blackout_form: BlackoutForm | None = None,
    status: int = 200,
) -> HttpResponse:
    """The catalogue page; a form refused is passed back bound, to show it as typed with its errors."""
    tenant = membership.tenant
    services = selectors.service_list(tenant=tenant)
    context = {
        "tenant": tenant,
        "services": services,
        "rules": selectors.rule_list(tenant=tenant),
        "blackouts": selectors.blackout_list(tenant=tenant),
        "rule_form": rule_form or RuleForm(services=services),
        "blackout_form": blackout_form or BlackoutForm(services=services),
        "can_manage": membership.can_manage,
    }
    return render(request, "bookings/console/catalog.html", context, status=status)


@login_required
def catalog_page(request: HttpRequest) -> HttpResponse:
    return _render_catalog(request, require_membership(request))


@login_required
def service_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    membership = require_manager(request, NOT_MANAGER)
    tenant = membership.tenant
    instance = None
    if pk is not None:
        instance = selectors.service_get(tenant=tenant, pk=pk)
        if instance is None:
            raise Http404("No such service")
    form = ServiceForm(request.POST or None, instance=instance or Service(tenant=tenant))
    if request.method == "POST" and switched_since_rendered(request, tenant):
        form.add_error(None, TENANT_SWITCHED.format(done="saved", tenant=tenant.name))
    elif request.method == "POST" and form.is_valid():
        try:
            catalog.service_save(tenant=tenant, service=form.save(commit=False))
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Saved {form.instance.name}.")
            if form.instance.is_paid_online and not payments.online_payment_ready():
                messages.warning(request, NO_ONLINE_PAYMENT)
            return redirect("bookings_console:catalog")
    return render(request, "bookings/console/service_form.html", {"form": form, "service": instance})


@login_required
@require_POST
def rule_add(request: HttpRequest) -> HttpResponse:
    membership = require_manager(request, NOT_MANAGER)
    tenant = membership.tenant
    form = RuleForm(request.POST, services=selectors.service_list(tenant=tenant))
    if switched_since_rendered(request, tenant):
        messages.error(request, TENANT_SWITCHED.format(done="added", tenant=tenant.name))
        return redirect("bookings_console:catalog")
    if form.is_valid():
        data = form.cleaned_data
        try:
            catalog.rule_add(
                tenant=tenant,
                service=data["service"],
                weekday=data["weekday"],
                start_time=data["start_time"],
                end_time=data["end_time"],
                capacity=data["capacity"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        except BookingError as exc:
            form.add_error("service", exc.message)
        else:
            messages.success(request, "Opening hours added.")
            return redirect("bookings_console:catalog")
    # the page again with the hours as typed, each error on its field
    return _render_catalog(request, membership, rule_form=form, status=400)


def _hours_named(rule: AvailabilityRule) -> str:
    """``"Massage's hours on Saturday, 10:00\u201312:00"`` (an en dash), as the catalogue's Remove… link
    names them."""
    whose = f"{rule.service.name}'s" if rule.service is not None else "all services'"
    return f"{whose} hours on {rule.get_weekday_display()}, {rule.start_time:%H:%M}\u2013{rule.end_time:%H:%M}"


def _closed_date_named(blackout: BlackoutDate) -> str:
    """``"the closed date 2030-12-25 (all services)"``, as the catalogue's Remove… link names it."""
    scope = blackout.service.name if blackout.service is not None else "all services"
    return f"the closed date {blackout.date:%Y-%m-%d} ({scope})"


def _switched_away(request: HttpRequest, membership: Membership) -> HttpResponse | None:
    """The catalogue saying nothing was removed when a confirmation was posted after the console switched
    to another tenant (``switched_since_rendered``), before the row is looked up there (a 404); else None."""
    if request.method != "POST" or not switched_since_rendered(request, membership.tenant):
        return None
    messages.error(request, TENANT_SWITCHED.format(done="removed", tenant=membership.tenant.name))
    return redirect("bookings_console:catalog")


def _confirm_removal(
    request: HttpRequest, membership: Membership, *, what: str, button: str, facts: list[str]
) -> HttpResponse:
    context = {"tenant": membership.tenant, "what": what, "button": button, "facts": facts}
    return render(request, "bookings/console/confirm_remove.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def rule_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks to confirm, naming the hours; only POST removes them. Another tenant's hours are a 404."""
    membership = require_manager(request, NOT_MANAGER)
    if switched := _switched_away(request, membership):
        return switched
    rule = selectors.rule_get(tenant=membership.tenant, pk=pk)
    if rule is None:
        raise Http404("No such rule")
    if request.method == "POST":
        if not catalog.rule_delete(tenant=membership.tenant, rule_id=rule.pk):
            raise Http404("No such rule")
        messages.success(request, "Opening hours removed.")
        return redirect("bookings_console:catalog")
    facts = [
        f"Capacity: {rule.capacity} booking{'' if rule.capacity == 1 else 's'} at once.",
        "Bookings already made in these hours stay; new ones follow the hours left.",
    ]
    return _confirm_removal(request, membership, what=_hours_named(rule), button="Remove these hours", facts=facts)


@login_required
@require_POST
def blackout_add(request: HttpRequest) -> HttpResponse:
    membership = require_manager(request, NOT_MANAGER)
    tenant = membership.tenant
    form = BlackoutForm(request.POST, services=selectors.service_list(tenant=tenant))
    if switched_since_rendered(request, tenant):
        messages.error(request, TENANT_SWITCHED.format(done="added", tenant=tenant.name))
        return redirect("bookings_console:catalog")
    if form.is_valid():
        data = form.cleaned_data
        try:
            catalog.blackout_add(tenant=tenant, service=data["service"], day=data["date"], reason=data["reason"])
        except ValidationError as exc:
            form.add_error(None, exc)
        except BookingError as exc:
            form.add_error("service", exc.message)
        else:
            messages.success(request, f"Closed on {data['date']:%Y-%m-%d}.")
            return redirect("bookings_console:catalog")
    # the page again with the date as typed, each error on its field
    return _render_catalog(request, membership, blackout_form=form, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def blackout_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks to confirm, naming the date; only POST removes it. Another tenant's date is a 404."""
    membership = require_manager(request, NOT_MANAGER)
    if switched := _switched_away(request, membership):
        return switched
    blackout = selectors.blackout_get(tenant=membership.tenant, pk=pk)
    if blackout is None:
        raise Http404("No such blackout date")
    if request.method == "POST":
        if not catalog.blackout_delete(tenant=membership.tenant, blackout_id=blackout.pk):
            raise Http404("No such blackout date")
        messages.success(request, "Blackout date removed.")
        return redirect("bookings_console:catalog")
    facts = [f"Reason: {blackout.reason}"] if blackout.reason else []
    facts.append("Customers can book on that date again, within the opening hours.")
    what = _closed_date_named(blackout)
    return _confirm_removal(request, membership, what=what, button="Remove this closed date", facts=facts)
