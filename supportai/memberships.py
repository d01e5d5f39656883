"""Writes for staff memberships, and the one place that decides who may grant which role.

Every path that creates, changes or deletes a ``Membership`` (Django admin's add, change, delete and
bulk delete; demo seeding) goes through these functions. The rules:

- only owners and admins of the tenant manage its memberships (superusers manage any tenant);
- only an owner grants, changes or removes the owner role, so an admin manages admins, agents
  and analysts only;
- a tenant never loses its last active owner, whoever asks. An owner whose user is deactivated
  cannot log in, so does not count: the tenant needs another owner before losing the last active
  one, and deleting or deactivating that user is refused too (``user_removal_refusal``, checked by
  the User admin and, for every ``Model.delete()``, ``QuerySet.delete()`` and ``save()``, by the
  ``pre_delete`` and ``pre_save`` receivers connected in ``SupportAIConfig.ready``). Deleting the
  tenant itself is allowed: its memberships go with it.

``actor=None`` is the operator at the shell (a management command): the role rules are skipped, the
last-owner rule is not. Bulk writes on memberships (``Membership`` querysets' ``delete()`` and
``update()``, see ``MembershipQuerySet``) are the operator's too and go through
``check_memberships_removal``. Writes lock the tenant row, so two requests cannot each remove "the
other" owner. A ``User`` ``QuerySet.update(is_active=False)`` and raw SQL send no signals and are
not checked: deactivate users in bulk with ``user_deactivate_many``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from enum import StrEnum
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet

from supportai.models import MANAGER_ROLES, Membership, Role, Tenant
from supportai.selectors import membership_get

Actor = User | AnonymousUser | None


class MembershipRefusal(StrEnum):
    NOT_A_MANAGER = "Only owners and admins of this tenant can change its memberships."
    OWNER_ONLY = "Only an owner can grant, change or remove the owner role; ask an owner of this tenant."
    LAST_OWNER = "A tenant must keep at least one active owner: make someone else an owner first."
    LAST_OWNER_LEAVING = "{user} is the last owner of tenant {tenant}; make someone else an owner of it first."


class MembershipRefused(PermissionDenied):
    """A refused write; nothing was changed. ``str()`` is the message for the user."""

    def __init__(self, refusal: MembershipRefusal, message: str | None = None) -> None:
        super().__init__(message or refusal.value)
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
    if current is None or current.role != Role.OWNER or role == Role.OWNER:
        return None
    if _active_owners(tenant_id=tenant.pk).exclude(pk=current.pk).exists():
        return None
    return MembershipRefusal.LAST_OWNER


def _active_owners(*, tenant_id: int | OuterRef) -> QuerySet[Membership]:
    return Membership.objects.filter(tenant_id=tenant_id, role=Role.OWNER, user__is_active=True)


def _removal_refusal(memberships: QuerySet[Membership]) -> str | None:
    """Why these memberships may not all go at once, naming an owner among them and their tenant.

    Refused when one of them is an owner's and their tenant has no active owner outside them.
    """
    active_owner_elsewhere = _active_owners(tenant_id=OuterRef("tenant_id")).exclude(pk__in=memberships.values("pk"))
    last = (
        memberships.filter(role=Role.OWNER)
        .exclude(Exists(active_owner_elsewhere))
        .select_related("user", "tenant")
        .order_by("tenant__name", "user__username")
        .first()
    )
    if last is None:
        return None
    return MembershipRefusal.LAST_OWNER_LEAVING.format(user=last.user, tenant=last.tenant)


def user_removal_refusal(*, user_ids: Collection[int]) -> str | None:
    """Why these users may not be deleted or deactivated together, naming a user and their tenant.

    Refused when one of them owns a tenant that would be left with no active owner (their other
    tenants, where they are agents or analysts, do not matter). A read, for forms; the receivers below
    check again under lock when the users are deleted or saved.
    """
    return _removal_refusal(Membership.objects.filter(user_id__in=user_ids))


@transaction.atomic
def check_memberships_removal(memberships: QuerySet[Membership]) -> None:
    """Refuse (``LAST_OWNER_LEAVING``) removing these memberships from their tenants all at once.

    Locks the tenants they own first, held until the caller's transaction ends, so the caller's write
    that follows is judged against owners nobody else is removing meanwhile.
    """
    owned = Tenant.objects.filter(pk__in=memberships.filter(role=Role.OWNER).values("tenant_id"))
    list(owned.select_for_update().order_by("pk").values_list("pk", flat=True))
    message = _removal_refusal(memberships)
    if message is not None:
        raise MembershipRefused(MembershipRefusal.LAST_OWNER_LEAVING, message)


def _check_user_removal(*, user_ids: Collection[int]) -> None:
    check_memberships_removal(Membership.objects.filter(user_id__in=user_ids))


def refuse_last_owner_delete(sender: type[User], instance: User, origin: Any = None, **kwargs: Any) -> None:
    """``pre_delete`` of users. Django sends it for every row of a ``QuerySet.delete()`` before deleting
    any, so the users deleted together (``origin``) are judged together: two owners of one tenant
    cannot go in one bulk delete either."""
    user_ids = {instance.pk}
    if isinstance(origin, QuerySet) and origin.model is sender:
        user_ids.update(origin.values_list("pk", flat=True))
    _check_user_removal(user_ids=user_ids)


def refuse_last_owner_deactivation(
    sender: type[User], instance: User, raw: bool = False, update_fields: Any = None, **kwargs: Any
) -> None:
    """``pre_save`` of users: turning ``is_active`` off is refused like deleting the user.

    Inside a transaction the tenant lock is held until the caller commits its save. Outside one
    (autocommit) it would be released before ``save()`` writes, so two owners saved at once could
    each see the other still active: there the check and ``is_active = False`` are written in one
    transaction here, and the save that follows writes the same value again.
    """
    if raw or instance.pk is None or instance.is_active:
        return
    if update_fields is not None and "is_active" not in update_fields:
        return
    with transaction.atomic():
        active = sender.objects.filter(pk=instance.pk, is_active=True)
        if not active.exists():
            return
        _check_user_removal(user_ids={instance.pk})
        active.update(is_active=False)


@transaction.atomic
def user_deactivate_many(*, user_ids: Collection[int]) -> int:
    """Deactivate all these users or, when that would leave a tenant with no active owner, none (the
    refusal is raised). Returns how many were active. The bulk path for operators and the User admin:
    a ``User`` ``QuerySet.update()`` is not checked."""
    _check_user_removal(user_ids=user_ids)
    return User.objects.filter(pk__in=user_ids, is_active=True).update(is_active=False)


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
