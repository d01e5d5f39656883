"""Reads for escalations: a tenant's policy and hours, the live queue, positions, one escalation, staff."""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth.models import User
from django.db.models import Case, IntegerField, QuerySet, Value, When

from chat.models import Conversation, Message, MessageRole
from escalations.hours import ServiceHours
from escalations.models import (
    PRIORITY_RANK,
    Channel,
    DeliveryStatus,
    Escalation,
    EscalationPolicy,
    Mode,
    NotificationDelivery,
    Status,
)
from supportai.memo import TenantMemo
from supportai.models import Membership, Tenant


def policy_for(*, tenant: Tenant) -> EscalationPolicy:
    """The tenant's policy, or the defaults (unsaved) when it has none."""
    return EscalationPolicy.objects.for_tenant(tenant).first() or EscalationPolicy(tenant=tenant)


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


def escalation_queue(*, tenant: Tenant) -> QuerySet[Escalation]:
    """Open escalations, most urgent first: priority, then SLA due time, then age."""
    return (
        Escalation.objects.for_tenant(tenant)
        .exclude(status=Status.RESOLVED)
        .select_related("assigned_to", "conversation", "end_user")
        .annotate(priority_rank=_PRIORITY_ORDER)
        .order_by("priority_rank", "sla_due_at", "created_at", "pk")
    )


def waiting_escalations(*, tenant: Tenant) -> QuerySet[Escalation]:
    """Live escalations nobody has picked up yet, in queue order (their place in line is their index + 1)."""
    return escalation_queue(tenant=tenant).filter(status=Status.PENDING, mode=Mode.LIVE)


def waiting_positions(*, tenant: Tenant) -> dict[int, int]:
    """Escalation id → 1-based place among live escalations nobody has picked up yet."""
    waiting = waiting_escalations(tenant=tenant).values_list("pk", flat=True)
    return {pk: position for position, pk in enumerate(waiting, start=1)}


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


def ticket_went_out(*, tenant: Tenant, escalation: Escalation) -> bool:
    """True when the escalation's ticket was sent, or an attempt at it started (being sent now, or sent
    before it failed or its worker died), with what the escalation said then.

    Only a ticket no attempt has started yet reads the escalation afresh when sent. The rows are read
    under their lock, so an attempt taking its lease now is waited for: either it leased first (and is
    counted), or it reads the escalation after this transaction commits. The lock comes before the
    status test: a row filtered out on its old version would not be waited for. Call inside a transaction.
    """
    tickets = (
        NotificationDelivery.objects.for_tenant(tenant)
        .select_for_update()
        .filter(escalation=escalation, channel=Channel.TICKET)
        .values_list("status", "attempts")
    )
    return any(
        status == DeliveryStatus.SENT or (status in _UNFINISHED and attempts > 0) for status, attempts in tickets
    )
