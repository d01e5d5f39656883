"""Writes for staff memberships, and the one place that decides who may grant which role.

Every path that creates, changes or deletes a ``Membership`` (Django admin's add, change, delete and
bulk delete; demo seeding) goes through these functions. The rules:

- only owners and admins of the tenant manage its memberships (superusers manage any tenant);
- only an owner grants, changes or removes the owner role, so an admin manages admins, agents
  and analysts only;
- a tenant never loses its last owner, whoever asks.

``actor=None`` is the operator at the shell (a management command): the role rules are skipped, the
last-owner rule is not. Writes lock the tenant row, so two requests cannot each remove "the other"
owner.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied
from django.db import transaction

from supportai.models import MANAGER_ROLES, Membership, Role, Tenant
from supportai.selectors import membership_get

Actor = User | AnonymousUser | None


class MembershipRefusal(StrEnum):
    NOT_A_MANAGER = "Only owners and admins of this tenant can change its memberships."
    OWNER_ONLY = "Only an owner can grant, change or remove the owner role; ask an owner of this tenant."
    LAST_OWNER = "A tenant must keep at least one owner: make someone else an owner first."


class MembershipRefused(PermissionDenied):
    """A refused membership write; nothing was changed. ``str()`` is the message for the user."""

    def __init__(self, refusal: MembershipRefusal) -> None:
        super().__init__(refusal.value)
        self.refusal = refusal


def membership_refusal(
    *, actor: Actor, tenant: Tenant, current: Membership | None, role: Role | None
) -> MembershipRefusal | None:
    """Why ``actor`` may not turn ``current`` (None: a new membership) into ``role`` (None: removed).

    A read, for forms that want to refuse before writing; the write functions check again under lock.
    """
    if actor is not None and not getattr(actor, "is_superuser", False):
        own = membership_get(user=actor, tenant_id=tenant.pk)
        if own is None or own.role not in MANAGER_ROLES:
            return MembershipRefusal.NOT_A_MANAGER
        touches_owner = Role.OWNER in (role, current.role if current else None)
        if touches_owner and own.role != Role.OWNER:
            return MembershipRefusal.OWNER_ONLY
    if current is not None and current.role == Role.OWNER and role != Role.OWNER:
        other_owners = Membership.objects.filter(tenant=tenant, role=Role.OWNER).exclude(pk=current.pk)
        if not other_owners.exists():
            return MembershipRefusal.LAST_OWNER
    return None


def _check(*, actor: Actor, tenant: Tenant, current: Membership | None, role: Role | None) -> None:
    refusal = membership_refusal(actor=actor, tenant=tenant, current=current, role=role)
    if refusal is not None:
        raise MembershipRefused(refusal)


def _lock(*, tenant: Tenant, membership_id: int) -> Membership:
    Tenant.objects.select_for_update().filter(pk=tenant.pk).first()
    return Membership.objects.select_for_update().select_related("user", "tenant").get(tenant=tenant, pk=membership_id)


@transaction.atomic
def membership_create(*, actor: Actor, tenant: Tenant, user: User, role: Role | str) -> Membership:
    Tenant.objects.select_for_update().filter(pk=tenant.pk).first()
    _check(actor=actor, tenant=tenant, current=None, role=Role(role))
    membership: Membership = Membership.objects.create(tenant=tenant, user=user, role=Role(role))
    return membership


@transaction.atomic
def membership_change_role(*, actor: Actor, tenant: Tenant, membership_id: int, role: Role | str) -> Membership:
    """Raises ``Membership.DoesNotExist`` when ``membership_id`` is not a membership of ``tenant``."""
    membership = _lock(tenant=tenant, membership_id=membership_id)
    _check(actor=actor, tenant=tenant, current=membership, role=Role(role))
    if membership.role != role:
        membership.role = Role(role)
        membership.save(update_fields=["role"])
    return membership


@transaction.atomic
def membership_delete(*, actor: Actor, tenant: Tenant, membership_id: int) -> None:
    """Raises ``Membership.DoesNotExist`` when ``membership_id`` is not a membership of ``tenant``."""
    membership = _lock(tenant=tenant, membership_id=membership_id)
    _check(actor=actor, tenant=tenant, current=membership, role=None)
    membership.delete()


@transaction.atomic
def membership_delete_many(*, actor: Actor, memberships: Iterable[Membership]) -> int:
    """Delete all of them or, when any one is refused, none (the refusal is raised).

    The actor's own memberships go last, so the rest are judged by the role the actor starts with.
    """
    actor_id = getattr(actor, "pk", None)
    count = 0
    for membership in sorted(memberships, key=lambda m: (m.tenant_id, m.user_id == actor_id, m.pk)):
        membership_delete(actor=actor, tenant=membership.tenant, membership_id=membership.pk)
        count += 1
    return count


@transaction.atomic
def membership_set(*, actor: Actor, tenant: Tenant, user: User, role: Role | str) -> Membership:
    """Give ``user`` the ``role`` in ``tenant``, creating the membership if need be."""
    existing = Membership.objects.filter(tenant=tenant, user_id=user.pk).values_list("pk", flat=True).first()
    if existing is None:
        return membership_create(actor=actor, tenant=tenant, user=user, role=role)
    return membership_change_role(actor=actor, tenant=tenant, membership_id=existing, role=role)
