"""Reads for the tenancy core."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import QuerySet

from supportai.models import Membership, Role, Tenant


def membership_list(*, user: User | AnonymousUser) -> QuerySet[Membership]:
    """The memberships ``user`` acts through: none for a deactivated user (read from the database, so a
    user deactivated since a long-lived socket connected, or an assignee, is caught too) or in a
    deactivated tenant."""
    if not user.is_authenticated:
        return Membership.objects.none()
    return Membership.objects.filter(user=user, user__is_active=True, tenant__is_active=True).select_related("tenant")


def tenant_ids_for_user(*, user: User | AnonymousUser, roles: Iterable[Role] | None = None) -> set[int]:
    memberships = membership_list(user=user)
    if roles is not None:
        memberships = memberships.filter(role__in=list(roles))
    return set(memberships.values_list("tenant_id", flat=True))


def membership_get(*, user: User | AnonymousUser, tenant_id: int) -> Membership | None:
    return membership_list(user=user).filter(tenant_id=tenant_id).first()


def tenant_get_by_public_key(*, public_key: str) -> Tenant | None:
    if not public_key or len(public_key) > 64 or "\x00" in public_key:  # PostgreSQL cannot compare a NUL
        return None
    return Tenant.objects.filter(public_key=public_key, is_active=True).first()
