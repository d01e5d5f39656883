"""Reads for escalations: a tenant's policy and hours, the live queue, positions, one escalation, staff."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Literal

from django.contrib.auth.models import User
from django.db.models import Case, Exists, Func, IntegerField, Q, QuerySet, Subquery, Value, When

from chat.models import Conversation, Message, MessageRole
from escalations.hours import ServiceHours
from escalations.models import (
    PRIORITY_RANK,
    DeliveryStatus,
    Escalation,
    EscalationPolicy,
    Mode,
    NotificationDelivery,
    Priority,
    Status,
    WaitingLine,
)
from supportai.memo import TenantMemo
from supportai.models import Membership, Tenant


def policy_for(*, tenant: Tenant) -> EscalationPolicy:
    """The tenant's policy, or the defaults (unsaved) when it has none."""
    return EscalationPolicy.objects.for_tenant(tenant).first() or EscalationPolicy(tenant=tenant)


def policy_held(*, tenant_id: int) -> EscalationPolicy:
    """The tenant's policy (``policy_for``), its row share-locked until the transaction ends (call inside one): no
    receiver is switched on or off meanwhile (``gone.receiver_switch_on``, ``receiver_gone`` and
    ``policy_save_changes`` lock it for update), while other holders go on. Held by what decides by a receiver
    being off, from the decision to its commit, so a switch-on either commits first (the receiver is seen on) or
    waits and then finds what was decided: a raise (no delivery for the receiver: the scan of the escalations
    raised while it was off finds it) and an attempt (failed unsent: the re-send of what failed while it was off
    finds it)."""
    table = EscalationPolicy._meta.db_table
    held = list(EscalationPolicy.objects.raw(f"SELECT * FROM {table} WHERE tenant_id = %s FOR SHARE", [tenant_id]))
    return held[0] if held else EscalationPolicy(tenant_id=tenant_id)


def _billing_threshold(tenant: Tenant) -> Decimal:
    return policy_for(tenant=tenant).billing_dispute_threshold


_BILLING_THRESHOLD = TenantMemo(_billing_threshold, invalidated_by=["escalations.EscalationPolicy"])


def billing_threshold_for(*, tenant: Tenant) -> Decimal:
    """The amount above which a billing dispute goes to a person (read on every turn: memoized)."""
    return _BILLING_THRESHOLD.get(tenant)


def service_hours_for(*, tenant: Tenant, policy: EscalationPolicy | None = None) -> ServiceHours:
    policy = policy or policy_for(tenant=tenant)
    return ServiceHours.build(
        timezone=policy.timezone or tenant.timezone, weekly_hours=policy.weekly_hours, holidays=policy.holidays
    )


def open_escalation_for(*, tenant: Tenant, conversation: Conversation) -> Escalation | None:
    return (
        Escalation.objects.for_tenant(tenant)
        .filter(conversation=conversation)
        .exclude(status=Status.RESOLVED)
        .select_related("assigned_to")
        .first()
    )


def in_live_handoff(*, tenant: Tenant, conversation_id: int) -> bool:
    """True while a human has this conversation: the assistant must not answer."""
    return (
        Escalation.objects.for_tenant(tenant)
        .filter(conversation_id=conversation_id, mode=Mode.LIVE)
        .exclude(status=Status.RESOLVED)
        .exists()
    )


_PRIORITY_ORDER = Case(
    *(When(priority=priority, then=Value(rank)) for priority, rank in PRIORITY_RANK.items()),
    output_field=IntegerField(),
)


def _in_queue_order(escalations: QuerySet[Escalation]) -> QuerySet[Escalation]:
    """Most urgent first: priority, then SLA due time, then age (``QueueKey`` compares the same way)."""
    ranked = escalations.annotate(priority_rank=_PRIORITY_ORDER)
    return ranked.order_by("priority_rank", "sla_due_at", "created_at", "pk")


def escalation_queue(*, tenant: Tenant) -> QuerySet[Escalation]:
    """Open escalations in queue order."""
    return _in_queue_order(
        Escalation.objects.for_tenant(tenant)
        .exclude(status=Status.RESOLVED)
        .select_related("assigned_to", "conversation", "end_user")
    )


def _waiting(tenant: Tenant) -> QuerySet[Escalation]:
    """The waiting line: live escalations nobody has picked up yet (partial index ``escalation_waiting_line``)."""
    return Escalation.objects.for_tenant(tenant).filter(status=Status.PENDING, mode=Mode.LIVE)


@dataclass(frozen=True)
class QueueKey:
    """Where an escalation stands in queue order: priority, then SLA due time, then age, then id."""

    priority: str
    sla_due_at: datetime
    created_at: datetime
    pk: int

    @classmethod
    def of(cls, escalation: Escalation) -> QueueKey:
        return cls(escalation.priority, escalation.sla_due_at, escalation.created_at, escalation.pk)

    def ahead(self) -> Q:
        """Rows before this place in queue order."""
        return self._beyond(more_urgent=True, compare="lt")

    def behind(self) -> Q:
        """Rows after this place in queue order."""
        return self._beyond(more_urgent=False, compare="gt")

    def at(self) -> Q:
        """The row at this place, while it stands there."""
        return Q(priority=self.priority, sla_due_at=self.sla_due_at, created_at=self.created_at, pk=self.pk)

    def _beyond(self, *, more_urgent: bool, compare: Literal["lt", "gt"]) -> Q:
        # Spelled out column by column (not a CASE rank) so each branch is a range of the index.
        rank = PRIORITY_RANK[Priority(self.priority)]
        other = [p for p, r in PRIORITY_RANK.items() if (r < rank if more_urgent else r > rank)]
        same = Q(priority=self.priority)
        return (
            Q(priority__in=other)
            | same & Q(**{f"sla_due_at__{compare}": self.sla_due_at})
            | same & Q(sla_due_at=self.sla_due_at, **{f"created_at__{compare}": self.created_at})
            | same & Q(sla_due_at=self.sla_due_at, created_at=self.created_at, **{f"pk__{compare}": self.pk})
        )


def in_waiting_line(*, tenant: Tenant, escalation: Escalation) -> bool:
    """True while the escalation waits in the tenant's line: live, and nobody has picked it up yet."""
    return escalation.tenant_id == tenant.pk and escalation.status == Status.PENDING and escalation.mode == Mode.LIVE


def place_at(*, tenant: Tenant, key: QueueKey) -> int:
    """The place in the waiting line (1-based) of whoever stands at ``key``, as committed now.

    One COUNT of the rows ahead, through the line's index: the rows themselves are not read.
    """
    return _waiting(tenant).filter(key.ahead()).count() + 1


def waiting_position(*, tenant: Tenant, escalation: Escalation) -> int | None:
    """The escalation's place in the waiting line, or None when it is not waiting."""
    if not in_waiting_line(tenant=tenant, escalation=escalation):
        return None
    return place_at(tenant=tenant, key=QueueKey.of(escalation))


def _counted(rows: QuerySet[Escalation]) -> Subquery:
    """``SELECT COUNT(*)`` of these rows, as a subquery of another statement."""
    counted = rows.order_by().annotate(count=Func(Value(1), function="COUNT", output_field=IntegerField()))
    return Subquery(counted.values("count"))


def _line_version(tenant: Tenant) -> Subquery:
    return Subquery(WaitingLine.objects.filter(tenant_id=tenant.pk).values("version"))


def place_with_version(*, tenant: Tenant, escalation: Escalation) -> tuple[int | None, int]:
    """The escalation's place in the waiting line (None: not waiting) and the line's version (0 before its
    first change), read in one statement: the place as it stood at that version.

    The place is None too when, at that version, the escalation no longer stands where ``escalation`` (read
    earlier) says: claimed, closed or moved up meanwhile. Its place counted then would be labelled with a
    version above the change that moved it, and the socket would drop that change's frame as older."""
    if not in_waiting_line(tenant=tenant, escalation=escalation):
        return None, line_version(tenant=tenant)
    key = QueueKey.of(escalation)
    ahead = _waiting(tenant).filter(key.ahead())
    still_there = Exists(_waiting(tenant).filter(key.at()))
    version, count, waiting = (
        Tenant.objects.filter(pk=tenant.pk).values_list(_line_version(tenant), _counted(ahead), still_there).get()
    )
    return (count + 1 if waiting else None), version or 0


def line_version(*, tenant: Tenant) -> int:
    """The tenant's waiting line's version (0 before its first change)."""
    version = WaitingLine.objects.filter(tenant_id=tenant.pk).values_list("version", flat=True).first()
    return version or 0


def places_between(
    *, tenant: Tenant, after: QueueKey, before: QueueKey | None = None, including_after: bool = False
) -> list[tuple[int, int, Escalation]]:
    """The waiting line after ``after`` (and before ``before``), in queue order, each with its place and the
    line's version it was counted at: the customers whose place changes when one escalation joins or moves
    up to ``after``, or leaves the line from there (``including_after``: and the one at ``after``).

    One statement, so one snapshot: the rows, the COUNT of those ahead of them (through the line's index)
    and the line's version are read together. Read apart, a change committed in between (under READ
    COMMITTED each statement sees the latest commits) would be counted ahead of rows read before it moved,
    and those after them told a place one off."""
    rows = _waiting(tenant).filter(after.behind() | after.at() if including_after else after.behind())
    if before is not None:
        rows = rows.filter(before.ahead())
    ahead = _waiting(tenant).filter(after.ahead() if including_after else after.ahead() | after.at())
    between = _in_queue_order(rows).annotate(ahead=_counted(ahead), line_version=_line_version(tenant))
    return [(row.ahead + place, row.line_version or 0, row) for place, row in enumerate(between, start=1)]


def escalation_get(*, tenant: Tenant, pk: int) -> Escalation | None:
    return (
        Escalation.objects.for_tenant(tenant)
        .select_related("assigned_to", "conversation", "end_user")
        .filter(pk=pk)
        .first()
    )


def escalation_list(*, tenant: Tenant, status: str = "") -> QuerySet[Escalation]:
    queryset = Escalation.objects.for_tenant(tenant).select_related("assigned_to", "conversation")
    return queryset.filter(status=status) if status else queryset


def staff_member_get(*, tenant: Tenant, user_id: int) -> User | None:
    """The user with this id when they are a member of the tenant (any role), else None."""
    membership = Membership.objects.filter(tenant=tenant, user_id=user_id).select_related("user").first()
    return None if membership is None else membership.user


def unanswered_question(*, tenant: Tenant, conversation_id: int) -> Message | None:
    """The conversation's newest message when it is the customer's: nobody (agent or assistant) answered it yet."""
    latest = (
        Message.objects.for_tenant(tenant)
        .filter(
            conversation_id=conversation_id, role__in=[MessageRole.CUSTOMER, MessageRole.AGENT, MessageRole.ASSISTANT]
        )
        .order_by("-pk")
        .first()
    )
    return latest if latest is not None and latest.role == MessageRole.CUSTOMER else None


_UNFINISHED = (DeliveryStatus.PENDING, DeliveryStatus.RETRYING)


def channels_that_went_out(*, tenant: Tenant, escalation: Escalation) -> set[str]:
    """The channels whose notification of the escalation was sent, or an attempt at it started (being
    sent now, or sent before it failed or its worker died), with what the escalation said then.

    Only a notification no attempt has started yet reads the escalation afresh when sent. The rows are
    read under their lock, so an attempt taking its lease now is waited for: either it leased first (and
    is counted), or it reads the escalation after this transaction commits. The lock comes before the
    status test: a row filtered out on its old version would not be waited for. Call inside a transaction.
    """
    deliveries = (
        NotificationDelivery.objects.for_tenant(tenant)
        .select_for_update()
        .filter(escalation=escalation)
        .values_list("channel", "status", "attempts")
    )
    return {
        channel
        for channel, status, attempts in deliveries
        if status == DeliveryStatus.SENT or (status in _UNFINISHED and attempts > 0)
    }
