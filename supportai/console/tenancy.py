"""Which tenant a console request acts for.

The chosen tenant id lives in the session; it is honoured only while the user still has a
membership there, otherwise the user's first membership is used.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from supportai.models import Membership, Tenant
from supportai.selectors import membership_list

SESSION_KEY = "console_tenant_id"
NO_MEMBERSHIP = "Your account is not a member of any tenant. Ask a tenant owner to invite you."
# The tenant a form that creates something was rendered for, posted back with it (templates:
# ``<input type="hidden" name="tenant" value="{{ console_membership.tenant_id }}">``).
TENANT_FIELD = "tenant"
TENANT_SWITCHED = (
    "Nothing was {done}: the console switched to {tenant} since this page was opened (in another tab?). "
    "Check that {tenant} is the tenant you mean, then try again."
)


# Where a request keeps the memberships it read: the view, the navigation and the tenant switcher
# of one page all need them.
MEMBERSHIPS_READ = "_console_memberships"


def console_memberships(request: HttpRequest) -> list[Membership]:
    """The memberships the user acts through (``membership_list``), oldest first, read once per request."""
    memberships: list[Membership] | None = getattr(request, MEMBERSHIPS_READ, None)
    if memberships is None:
        memberships = list(membership_list(user=request.user).order_by("pk"))
        setattr(request, MEMBERSHIPS_READ, memberships)
    return memberships


def current_membership(request: HttpRequest) -> Membership | None:
    memberships = console_memberships(request)
    chosen = request.session.get(SESSION_KEY)
    chosen_one = (m for m in memberships if isinstance(chosen, int) and m.tenant_id == chosen)
    return next(chosen_one, memberships[0] if memberships else None)


def require_membership(request: HttpRequest) -> Membership:
    membership = current_membership(request)
    if membership is None:
        raise PermissionDenied(NO_MEMBERSHIP)
    return membership


def require_manager(request: HttpRequest, refusal: str) -> Membership:
    """The current membership if it may change the tenant's settings (owner/admin), else 403 with ``refusal``."""
    membership = require_membership(request)
    if not membership.can_manage:
        raise PermissionDenied(refusal)
    return membership


def switched_since_rendered(request: HttpRequest, tenant: Tenant) -> bool:
    """Whether the form posted was rendered for another tenant than the one the console acts for now:
    the tenant lives in the session, so switching it in one tab would send another tab's new upload,
    source, service or booking to the tenant switched to. A post without the field (no console
    page) is not refused."""
    posted = request.POST.get(TENANT_FIELD)
    return posted is not None and posted != str(tenant.pk)
