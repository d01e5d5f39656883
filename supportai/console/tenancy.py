"""Which tenant a console request acts for.

The chosen tenant id lives in the session; it is honoured only while the user still has a
membership there, otherwise the user's first membership is used.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from supportai.models import Membership
from supportai.selectors import membership_get, membership_list

SESSION_KEY = "console_tenant_id"
NO_MEMBERSHIP = "Your account is not a member of any tenant. Ask a tenant owner to invite you."


def current_membership(request: HttpRequest) -> Membership | None:
    chosen = request.session.get(SESSION_KEY)
    if isinstance(chosen, int):
        membership = membership_get(user=request.user, tenant_id=chosen)
        if membership is not None:
            return membership
    return membership_list(user=request.user).first()


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
