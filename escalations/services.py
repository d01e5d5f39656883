"""Writes for escalations: raise (create or update) and what the customer side changes.

Staff actions (claim, assign, reply, hand back, resolve) live in ``escalations.staff``.

Every transition writes an ``EscalationEvent``. Services return the channel-layer publications the
caller sends after commit; notifications are enqueued, and the new places in line of the customers a
change moved are read and sent (``line_joined``, ``line_leaving``), with ``transaction.on_commit``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from chat.models import Conversation, ConversationStatus
from chat.phrases import ErrorText, english_error
from escalations import messages
from escalations.hours import ServiceHours
from escalations.inbox import queue_row
from escalations.limits import RATE_LIMITED_MESSAGE, EscalationSlots
from escalations.models import (
    PRIORITY_RANK,
    Escalation,
    EscalationEvent,
    EventKind,
    Mode,
    Priority,
    Status,
    WaitingLine,
)
from escalations.realtime import Publication, publish_sync, queue_changed, to_customer
from escalations.reasons import reasons_added
from escalations.selectors import (
    QueueKey,
    channels_that_went_out,
    in_waiting_line,
    place_at,
    places_between,
    policy_for,
    policy_held,
    service_hours_for,
)
from escalations.summary import conversation_summary
from escalations.triggers import ReasonCode, TriggerHit
from supportai.models import Role, Tenant
from supportai.transactions import on_commit_robust

logger = logging.getLogger(__name__)

HIGH_CODES = frozenset({ReasonCode.SECURITY, ReasonCode.OUTAGE, ReasonCode.BILLING_DISPUTE})
LOW_CODES = frozenset({ReasonCode.REPEATED_FAILURE, ReasonCode.NO_ANSWER})
STAFF_ROLES = frozenset({Role.OWNER, Role.ADMIN, Role.AGENT})  # analysts read, never reply
LIVE_CONVERSATION_HOURS = 24
MAX_REPLY_CHARS = 4000
# An open escalation keeps the evidence of the first hit of each code (what opened it, and the first sign
# of every reason it has) and of this many latest hits; those in between are counted, not kept, so a
# customer whose every turn fires a trigger (an out-of-hours ticket stays open for days) does not grow it.
MAX_RECENT_EVIDENCE = 10
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


class EscalationError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


NO_CONVERSATION = EscalationError("not_found", english_error(ErrorText.HANDOFF_CHAT_ENDED))
RATE_LIMITED = EscalationError("rate_limited", RATE_LIMITED_MESSAGE)
NOT_OPEN = EscalationError("not_open", "This escalation is already closed.")
NOT_STAFF = EscalationError("forbidden", "Only agents, admins and owners of this tenant can do that.")
CLAIMED_BY_OTHER = EscalationError("claimed", "Another agent has already claimed this conversation.")
NOT_HOLDER = EscalationError(
    "forbidden", "Another agent holds this escalation: only they, an owner or an admin can close it."
)
EMPTY_REPLY = EscalationError("bad_request", f"Write a reply of 1 to {MAX_REPLY_CHARS} characters.")


def priority_for(codes: Iterable[str]) -> Priority:
    codes = set(codes)
    if codes & HIGH_CODES:
        return Priority.HIGH
    if codes and codes <= LOW_CODES:
        return Priority.LOW
    return Priority.MEDIUM


def _sla_minutes(tenant: Tenant, priority: str) -> int:
    policy = policy_for(tenant=tenant)
    minutes: int = {
        Priority.HIGH: policy.sla_minutes_high,
        Priority.MEDIUM: policy.sla_minutes_medium,
        Priority.LOW: policy.sla_minutes_low,
    }[Priority(priority)]
    return minutes


def record_event(
    escalation: Escalation, kind: EventKind, *, actor: Any = None, from_status: str = "", **detail: Any
) -> None:
    EscalationEvent.objects.create(
        tenant_id=escalation.tenant_id,
        escalation=escalation,
        kind=kind,
        actor=actor,
        from_status=from_status,
        to_status=escalation.status,
        detail=detail,
    )


def customer_frame(
    escalation: Escalation, *, status: str, message: str, position: int | None = None, version: int | None = None
) -> dict[str, Any]:
    """The protocol's ``escalation`` frame (docs/websocket-protocol.md). ``version``: the waiting line's
    version the frame's state was read at (``WaitingLine``), None when no change to the line made it."""
    return {
        "type": "escalation",
        "escalation_id": escalation.pk,
        "status": status,
        "message": message,
        "mode": escalation.mode,
        "position": position,
        "expected_reply_at": escalation.sla_due_at.isoformat() if escalation.mode == Mode.TICKET else None,
        "version": version,
    }


def ticket_line(escalation: Escalation, *, team: str, hours: ServiceHours) -> str:
    """What the customer of an out-of-hours ticket is told: when the team replies, and by email (to the
    address it has, or asking for one): on opening, on asking again, on resume."""
    reply_by, email = escalation.sla_due_at, escalation.contact_email
    return messages.ticket_handoff(team=team, reply_by=reply_by, hours=hours, email=email)


def frame_publication(escalation: Escalation, frame: dict[str, Any]) -> Publication:
    return to_customer(escalation.conversation_id, {"type": "escalation.status", "frame": frame})


# First keys of the transaction-level advisory locks on one tenant's waiting line (second key: the tenant).
LINE_LOCK_NAMESPACE = 0x514C  # "QL": changes to the line take turns
PLACES_LOCK_NAMESPACE = 0x5150  # "QP": so do the places told after them


def _take_turn(namespace: int, tenant: Tenant) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [namespace, tenant.pk % 2**31])


def _lock_line(tenant: Tenant) -> int:
    """Take the tenant's line until this transaction ends: every change to the line does, before it counts
    a place, so a place counted under it includes each change committed before and none still under way.
    Taken once the change holds its escalation's row, and only by changes to the waiting line: tickets,
    replies to a claimed customer and other tenants never wait for it. Returns the line's new version
    (raised by one, committed with the change): the state this change's frames are read at."""
    _take_turn(LINE_LOCK_NAMESPACE, tenant)
    table = WaitingLine._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (tenant_id, version) VALUES (%s, 1) "
            f"ON CONFLICT (tenant_id) DO UPDATE SET version = {table}.version + 1 RETURNING version",
            [tenant.pk],
        )
        version: int = cursor.fetchone()[0]
    return version


def _place_told(escalation: Escalation, position: int, team: str, version: int) -> Publication:
    text = messages.already_waiting(team=team, position=position)
    frame = customer_frame(escalation, status="pending", message=text, position=position, version=version)
    return frame_publication(escalation, frame)


def _tell_places(tenant: Tenant, *, after: QueueKey, before: QueueKey | None, including_after: bool) -> None:
    """Tell each customer waiting after ``after`` (and before ``before``; ``including_after``: and the one
    at ``after``) their place as committed now, one teller of the tenant at a time: each reads after its
    own change committed, so the last to send read after every change, and what a customer hears last
    is their place."""
    with transaction.atomic():
        _take_turn(PLACES_LOCK_NAMESPACE, tenant)
        places = places_between(tenant=tenant, after=after, before=before, including_after=including_after)
        if places:
            team = policy_for(tenant=tenant).team_name
            _publish_places(tenant, places, team=team)


def _publish_places(tenant: Tenant, places: list[tuple[int, int, Escalation]], *, team: str) -> None:
    """Best effort, as ``watch.publish_message``: the change that moved these customers has committed,
    and a widget that reconnects is told its place counted afresh (``handoff.resume_frames``), so a
    channel-layer failure (Redis down, say) is a warning naming the ids, not an error."""
    try:
        publish_sync(_place_told(escalation, position, team, version) for position, version, escalation in places)
    except Exception as exc:
        logger.warning(
            "new places in line of escalations %s (tenant %s) were not told to their customers: %r",
            [escalation.pk for _, _, escalation in places],
            tenant.pk,
            exc,
        )


def _tell_places_on_commit(
    tenant: Tenant, *, after: QueueKey, before: QueueKey | None = None, including_after: bool = False
) -> None:
    on_commit_robust(_tell_places, tenant, after=after, before=before, including_after=including_after)


@dataclass(frozen=True)
class Place:
    """A place in the waiting line and the line's version it was counted at."""

    position: int | None
    version: int | None


NOT_WAITING = Place(None, None)


def line_joined(tenant: Tenant, escalation: Escalation, *, moved_from: QueueKey | None = None) -> Place:
    """The place in line of ``escalation``, just raised or raised again (``NOT_WAITING``: not in line).
    Once this commits, those it went ahead of (it joined the line, or moved up from ``moved_from``) are
    told theirs.

    A customer who moved up is told theirs again then, on the channel layer: a teller that read the line
    before the move committed may have sent them their old place after this one was counted.
    """
    if not in_waiting_line(tenant=tenant, escalation=escalation):
        return NOT_WAITING
    version = _lock_line(tenant)
    key = QueueKey.of(escalation)
    if key != moved_from:
        _tell_places_on_commit(tenant, after=key, before=moved_from, including_after=moved_from is not None)
    return Place(place_at(tenant=tenant, key=key), version)


def line_leaving(tenant: Tenant, escalation: Escalation) -> int | None:
    """Call in the transaction that takes ``escalation`` out of the line (claimed, assigned, closed), before
    it changes: once this commits, those behind it are told their new place. Returns the line's version
    after this change (None: the escalation was not in line), for the frame telling its customer."""
    if not in_waiting_line(tenant=tenant, escalation=escalation):
        return None
    version = _lock_line(tenant)
    _tell_places_on_commit(tenant, after=QueueKey.of(escalation))
    return version


def _address_follow_up(*, tenant: Tenant, escalation: Escalation) -> None:
    """The customer's address arrived after the team was told of their out-of-hours ticket without it:
    each channel that told them (the ticket, Slack, the webhook) sends an ``updated`` notification, the
    ticket again with the customer as Reply-To. A notification not sent yet reads the address itself."""
    if escalation.mode != Mode.TICKET or not escalation.contact_email:
        return
    from escalations.notifications.dispatch import notify_escalation_updated

    notify_escalation_updated(escalation, told=channels_that_went_out(tenant=tenant, escalation=escalation))


@dataclass(frozen=True)
class Raised:
    escalation: Escalation
    created: bool
    frame: dict[str, Any]
    publications: list[Publication] = field(default_factory=list)


def _open_conversation(*, tenant: Tenant, conversation_id: int) -> Conversation:
    cutoff = timezone.now() - timedelta(hours=LIVE_CONVERSATION_HOURS)
    conversation = (
        Conversation.objects.for_tenant(tenant)
        .select_for_update()
        .filter(pk=conversation_id, last_activity_at__gte=cutoff)
        .exclude(status=ConversationStatus.ABANDONED)
        .first()
    )
    if conversation is None:
        raise NO_CONVERSATION
    return conversation


def _kept_evidence(evidence: list[dict[str, str]]) -> list[dict[str, str]]:
    """The first entry of each code and the ``MAX_RECENT_EVIDENCE`` latest, in the order they came."""
    recent_from = len(evidence) - MAX_RECENT_EVIDENCE
    seen: set[str] = set()
    kept: list[dict[str, str]] = []
    for index, entry in enumerate(evidence):
        if entry["code"] not in seen or index >= recent_from:
            kept.append(entry)
        seen.add(entry["code"])
    return kept


def _record_update(escalation: Escalation, hits: Sequence[TriggerHit], *, news: bool, now: datetime) -> None:
    """Audit a raise on the open ``escalation`` (locked). One that brings ``news`` (a reason code it did not
    have, a higher priority, an email address or phone number of the customer's it did not have) is an event
    of its own; one that only repeats what the escalation has (a customer whose every turn fires the same
    triggers, as on an out-of-hours ticket open for days) is counted on the latest event when that is an
    update (``repeats``, ``last_repeat_at``), so the trail grows with what changed, not with the customer's
    turns."""
    events = EscalationEvent.objects.filter(tenant_id=escalation.tenant_id, escalation=escalation)
    latest = events.order_by("-created_at", "-pk").first()
    if not news and latest is not None and latest.kind == EventKind.UPDATED:
        repeats = int(latest.detail.get("repeats", 0)) + 1
        latest.detail = {**latest.detail, "repeats": repeats, "last_repeat_at": now.isoformat()}
        latest.save(update_fields=["detail"])
        return
    record_event(escalation, EventKind.UPDATED, from_status=escalation.status, codes=[h.code.value for h in hits])


def _merge(escalation: Escalation, hits: Sequence[TriggerHit], reason: str, email: str, phone: str) -> None:
    escalation.reason_codes = list(dict.fromkeys([*escalation.reason_codes, *(hit.code.value for hit in hits)]))
    evidence = [*escalation.evidence, *({"code": h.code.value, "evidence": h.evidence} for h in hits)]
    escalation.evidence = _kept_evidence(evidence)
    escalation.evidence_left_out += len(evidence) - len(escalation.evidence)
    reasons = reasons_added(escalation.reason, escalation.reason_left_out, reason)
    escalation.reason, escalation.reason_left_out = reasons.text, reasons.left_out
    escalation.contact_email = email or escalation.contact_email
    escalation.contact_phone = phone or escalation.contact_phone


def escalation_raise(
    *,
    tenant: Tenant,
    conversation_id: int,
    hits: Sequence[TriggerHit],
    reason: str = "",
    email: str = "",
    phone: str = "",
    ip: str = "",
    now: datetime | None = None,
) -> Raised:
    """Open an escalation for the conversation, or add these triggers to its open one.

    Raises ``EscalationError`` (``not_found``: no live conversation of this tenant; ``rate_limited``).
    A new escalation takes a slot of the hourly limits (``limits.EscalationSlots``), given back when
    this transaction fails (refused, an error, or its commit): called, as every caller does, outside a
    transaction, a raise that did not commit used no slot. ``now``: when it is raised (by default, read once the
    tenant's policy is held: ``selectors.policy_held``).
    """
    slots = EscalationSlots()
    try:
        with transaction.atomic():
            return _raise(
                tenant=tenant,
                conversation_id=conversation_id,
                hits=hits,
                reason=reason,
                email=email,
                phone=phone,
                ip=ip,
                now=now,
                slots=slots,
            )
    except BaseException:
        slots.give_back()
        raise


def _raise(
    *,
    tenant: Tenant,
    conversation_id: int,
    hits: Sequence[TriggerHit],
    reason: str,
    email: str,
    phone: str,
    ip: str,
    now: datetime | None,
    slots: EscalationSlots,
) -> Raised:
    conversation = _open_conversation(tenant=tenant, conversation_id=conversation_id)
    policy = policy_held(tenant_id=tenant.pk)  # the receivers it notifies stay on or off until it commits
    # Read once the policy is held: a receiver switched off before then was switched off before this raise, so the
    # switch-on's scan of the escalations raised while it was off (by when they were raised) finds this one.
    now = now or timezone.now()
    hours = service_hours_for(tenant=tenant, policy=policy)
    existing = Escalation.objects.for_tenant(tenant).filter(conversation=conversation).exclude(status=Status.RESOLVED)
    escalation = existing.select_for_update().first()
    if escalation is not None:
        old_priority, had_email, old_key = escalation.priority, bool(escalation.contact_email), QueueKey.of(escalation)
        old_codes, old_address = set(escalation.reason_codes), (escalation.contact_email, escalation.contact_phone)
        old_row = queue_row(escalation)
        _merge(escalation, hits, reason, email, phone)
        new_priority = priority_for(escalation.reason_codes)
        if PRIORITY_RANK[Priority(new_priority)] < PRIORITY_RANK[Priority(old_priority)]:
            escalation.priority = new_priority
            escalation.sla_due_at = min(escalation.sla_due_at, hours.sla_due(now, _sla_minutes(tenant, new_priority)))
        escalation.updated_at = now
        escalation.save()
        new_code = not old_codes.issuperset(escalation.reason_codes)
        new_address = (escalation.contact_email, escalation.contact_phone) != old_address
        news = new_code or escalation.priority != old_priority or new_address
        _record_update(escalation, hits, news=news, now=now)
        if not had_email:
            _address_follow_up(tenant=tenant, escalation=escalation)
        place = line_joined(tenant, escalation, moved_from=old_key)
        if escalation.mode == Mode.TICKET:  # nobody will reply in the chat: say when, and by email
            text = ticket_line(escalation, team=policy.team_name, hours=hours)
        else:
            text = messages.already_waiting(team=policy.team_name, position=place.position)
        frame = customer_frame(
            escalation, status=escalation.status, message=text, position=place.position, version=place.version
        )
        # Staff inboxes re-read their queue on ``inbox.changed``: only for a change they would see there.
        shown = [] if queue_row(escalation) == old_row else [queue_changed(tenant.pk, escalation.pk)]
        return Raised(escalation, False, frame, shown)
    customer_key = str(conversation.end_user_id or f"c{conversation.pk}")
    if not slots.take(tenant_id=tenant.pk, ip=ip, customer_key=customer_key):
        raise RATE_LIMITED
    transaction.on_commit(slots.keep)  # first of this raise's callbacks: one failing after it gives nothing back
    escalation = Escalation(tenant=tenant, conversation=conversation, end_user_id=conversation.end_user_id)
    _merge(escalation, hits, reason, email, phone)
    escalation.priority = priority_for(escalation.reason_codes)
    escalation.mode = Mode.LIVE if hours.is_open(now) else Mode.TICKET
    escalation.sla_due_at = hours.sla_due(now, _sla_minutes(tenant, escalation.priority))
    escalation.summary = conversation_summary(tenant=tenant, conversation=conversation)
    escalation.created_at = escalation.updated_at = now
    if not escalation.contact_email and conversation.end_user_id and conversation.end_user:
        escalation.contact_email = conversation.end_user.email
    escalation.save()
    record_event(escalation, EventKind.CREATED, codes=escalation.reason_codes, mode=escalation.mode)
    if escalation.mode == Mode.LIVE:
        Conversation.objects.filter(pk=conversation.pk).update(status=ConversationStatus.ESCALATED)
        place = line_joined(tenant, escalation)
        text = messages.live_handoff(team=policy.team_name, position=place.position)
    else:
        place = NOT_WAITING
        text = ticket_line(escalation, team=policy.team_name, hours=hours)
    from escalations.notifications.dispatch import notify_escalation_created

    notify_escalation_created(escalation)
    frame = customer_frame(
        escalation, status=escalation.status, message=text, position=place.position, version=place.version
    )
    return Raised(escalation, True, frame, [queue_changed(tenant.pk, escalation.pk)])


def contact_email_capture(*, tenant: Tenant, conversation_id: int, text: str) -> str | None:
    """While an out-of-hours escalation has no email, an address the customer writes is kept for the reply."""
    match = _EMAIL.search(text)
    if match is None:  # the common case costs no query
        return None
    with transaction.atomic():
        escalation = (
            Escalation.objects.for_tenant(tenant)
            .select_for_update()
            .filter(conversation_id=conversation_id, mode=Mode.TICKET, contact_email="")
            .exclude(status=Status.RESOLVED)
            .first()
        )
        if escalation is None:
            return None
        escalation.contact_email = match.group(0)[:254]
        escalation.updated_at = timezone.now()
        escalation.save(update_fields=["contact_email", "updated_at"])
        record_event(escalation, EventKind.UPDATED, from_status=escalation.status, contact_email=True)
        _address_follow_up(tenant=tenant, escalation=escalation)
        return escalation.contact_email
