"""Which channels an escalation notifies, and the delivery of one ``NotificationDelivery``."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from django.db import transaction
from django.utils import timezone

from escalations.models import (
    Channel,
    DeliveryStatus,
    Escalation,
    EscalationPolicy,
    EventKind,
    Mode,
    NotificationDelivery,
    Status,
)
from escalations.notifications.base import DeliveryError, NoAddress, Sender, TargetGone, notice_for
from escalations.notifications.email import EmailSender
from escalations.notifications.gone import SWITCHABLE, Gone, off_message, receiver_gone, receiver_switch_on
from escalations.notifications.slack import SlackSender
from escalations.notifications.webhook import WebhookSender
from escalations.selectors import policy_for, policy_held
from escalations.ticketing import TicketSender
from supportai.config_warnings import warn_hourly
from supportai.crypto import DecryptionError
from supportai.models import Tenant
from supportai.outbox import backoff_seconds

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 5
SENDERS: dict[str, Sender] = {
    Channel.EMAIL: EmailSender(),
    Channel.SLACK: SlackSender(),
    Channel.WEBHOOK: WebhookSender(),
    Channel.TICKET: TicketSender(),
}
# How recent a notification that failed while its receiver was switched off must be to be sent again when a
# new address switches it back on (``deliveries_resend_failed_while_off``): older news is stale for a team.
RESEND_WITHIN = timedelta(hours=24)
# Said of a policy secret no configured key opens (written under a key since dropped).
SECRET_UNREADABLE_HINT = "enter it again (or clear it) in the escalation policy admin"


def channels_for(escalation: Escalation, *, switched_off: bool = False) -> list[Channel]:
    """The channels the tenant's policy notifies of ``escalation``: a receiver switched off by a 410 only with
    ``switched_off``."""
    policy = policy_for(tenant=escalation.tenant)
    channels: list[Channel] = []
    if escalation.mode == Mode.TICKET:
        channels.append(Channel.TICKET)  # the default ticket *is* the email; no second email
    elif policy.notify_email and escalation.tenant.escalation_email:
        channels.append(Channel.EMAIL)
    if _has_slack_url(policy, escalation) and (switched_off or policy.slack_disabled_at is None):
        channels.append(Channel.SLACK)
    if policy.webhook_url and (switched_off or policy.webhook_disabled_at is None):
        channels.append(Channel.WEBHOOK)
    return channels


def _has_slack_url(policy: EscalationPolicy, escalation: Escalation) -> bool:
    """A Slack URL no configured key opens skips Slack (logged) instead of failing the hand-off."""
    try:
        return bool(policy.slack_webhook_url)
    except DecryptionError as exc:
        logger.error("escalation %s: Slack not notified: %s; %s", escalation.pk, exc, SECRET_UNREADABLE_HINT)
        return False


def enqueue_delivery(delivery_id: int) -> None:
    from escalations.tasks import deliver_notification

    try:
        deliver_notification.delay(delivery_id)
    except Exception:  # broker down: the row stays pending and the sweeper re-enqueues it
        logger.exception("could not enqueue notification delivery %s", delivery_id)


def _record(escalation: Escalation, channels: list[Channel], event: EventKind) -> list[NotificationDelivery]:
    """Record one delivery per channel now; send them once the escalation is committed."""
    deliveries = [
        NotificationDelivery.objects.create(
            tenant_id=escalation.tenant_id, escalation=escalation, channel=channel, event=event
        )
        for channel in channels
    ]
    for delivery in deliveries:
        transaction.on_commit(partial(enqueue_delivery, delivery.pk))
    return deliveries


def notify_escalation_created(escalation: Escalation) -> list[NotificationDelivery]:
    return _record(escalation, channels_for(escalation), EventKind.CREATED)


def notify_escalation_updated(escalation: Escalation, *, told: set[str]) -> list[NotificationDelivery]:
    """An ``updated`` delivery to each channel the escalation notifies that already ``told`` the team of it
    (a channel that never did has nothing to update). A receiver switched off gets one too: it fails unsent, and
    is sent once the receiver is back on (``deliveries_resend_failed_while_off``), which knows the escalation
    and not yet this news."""
    channels = channels_for(escalation, switched_off=True)
    return _record(escalation, [channel for channel in channels if channel in told], EventKind.UPDATED)


@transaction.atomic
def deliveries_resend_failed_while_off(*, tenant: Tenant, channel: str, off_since: datetime) -> int:
    """Queue again, to the receiver now in ``tenant``'s policy, the ``channel`` notifications that failed
    since its receiver was switched off at ``off_since`` (its 410, and those failed unsent after it) and
    still matter: of an escalation still open, made within ``RESEND_WITHIN``. One per escalation: its
    ``created`` notice if that failed (it carries the escalation as it is now, updates included), else its
    latest ``updated`` one; the others stay failed. Called once the channel is back on (``deliveries_after_switch_on``):
    each delivery starts over (no attempts, due now), so the receiver gets each escalation once. Returns how
    many were queued."""
    failed = (
        NotificationDelivery.objects.for_tenant(tenant)
        .select_for_update()
        .filter(
            channel=channel,
            status=DeliveryStatus.FAILED,
            updated_at__gte=off_since,
            created_at__gte=timezone.now() - RESEND_WITHIN,
        )
        .exclude(escalation__status=Status.RESOLVED)
        .order_by("escalation_id", "-created_at", "-pk")
    )
    chosen: dict[int, NotificationDelivery] = {}
    for delivery in failed:
        kept = chosen.get(delivery.escalation_id)
        if kept is None or (delivery.event == EventKind.CREATED and kept.event != EventKind.CREATED):
            chosen[delivery.escalation_id] = delivery
    now = timezone.now()
    ids = [delivery.pk for delivery in chosen.values()]
    NotificationDelivery.objects.filter(pk__in=ids).update(
        status=DeliveryStatus.PENDING, attempts=0, leased_until=None, next_attempt_at=now, updated_at=now
    )
    for delivery_id in ids:
        transaction.on_commit(partial(enqueue_delivery, delivery_id))
    if ids:
        logger.info(
            "%s notifications of tenant %s: %s failed while switched off queued again",
            channel,
            tenant.pk,
            len(ids),
        )
    return len(ids)


@transaction.atomic
def deliveries_for_escalations_raised_while_off(*, tenant: Tenant, channel: str, off_since: datetime) -> int:
    """Record and queue a ``created`` delivery to ``tenant``'s ``channel`` for each escalation raised while its
    receiver was switched off (since ``off_since``) and still open, made within ``RESEND_WITHIN``, that has no
    delivery for the channel: raised while it was off, it made none (``channels_for`` left the channel out), so
    the re-send of what failed (``deliveries_resend_failed_while_off``) does not reach it. Called once the
    channel is back on (a new address in the policy admin, or the inbox's button); under the policy's lock, so
    two switch-ons at once record one delivery per escalation between them. An escalation raised before
    ``off_since`` without a delivery for the channel (it had no receiver then) is left alone. Returns how many
    were queued."""
    policy = EscalationPolicy.objects.for_tenant(tenant).select_for_update().first()
    if policy is None or policy.disabled_at(channel) is not None or not _has_address(policy, channel):
        return 0
    missed = (
        Escalation.objects.for_tenant(tenant)
        .filter(created_at__gte=max(off_since, timezone.now() - RESEND_WITHIN))
        .exclude(status=Status.RESOLVED)
        .exclude(deliveries__channel=channel)
        .select_related("tenant")
        .order_by("created_at", "pk")
    )
    deliveries = [
        delivery for escalation in missed for delivery in _record(escalation, [Channel(channel)], EventKind.CREATED)
    ]
    if deliveries:
        logger.info(
            "%s notifications of tenant %s: %s escalations raised while switched off queued",
            channel,
            tenant.pk,
            len(deliveries),
        )
    return len(deliveries)


def _within() -> str:
    return f"{RESEND_WITHIN.total_seconds() / 3600:.0f} hours"


def _resent_text(count: int) -> str:
    if not count:
        return f"No notification of an open escalation failed while it was off in the last {_within()}."
    noun = "notification" if count == 1 else "notifications"
    verb = "was" if count == 1 else "were"
    return (
        f"{count} {noun} that failed while it was off {verb} queued again for it (open escalations, the last "
        f"{_within()})."
    )


def _raised_text(count: int) -> str:
    if not count:
        return f"No open escalation was raised while it was off in the last {_within()}."
    noun = "escalation" if count == 1 else "escalations"
    verb = "was" if count == 1 else "were"
    return f"{count} open {noun} raised while it was off {verb} queued for it (the last {_within()})."


@dataclass(frozen=True)
class BackOn:
    """What a receiver switched back on was sent: ``resent`` notifications that failed while it was off queued
    again, and a notice queued for each of ``raised`` escalations raised meanwhile."""

    resent: int
    raised: int

    def text(self) -> str:
        """What staff are told (the admin and the inbox)."""
        return f"{_resent_text(self.resent)} {_raised_text(self.raised)}"


@transaction.atomic
def deliveries_after_switch_on(*, tenant: Tenant, channel: str, off_since: datetime) -> BackOn:
    """Queue what ``tenant``'s ``channel``, just switched back on after being off since ``off_since``, missed:
    the notifications that failed while it was off (``deliveries_resend_failed_while_off``) and the escalations
    raised meanwhile (``deliveries_for_escalations_raised_while_off``). The one path of both switch-ons (a new
    address in the policy admin, the inbox's button at the same address); call it in the transaction that
    switched the channel on, under the policy's lock, so two switch-ons at once queue each once."""
    return BackOn(
        resent=deliveries_resend_failed_while_off(tenant=tenant, channel=channel, off_since=off_since),
        raised=deliveries_for_escalations_raised_while_off(tenant=tenant, channel=channel, off_since=off_since),
    )


@transaction.atomic
def receiver_back_on(*, tenant: Tenant, channel: str) -> BackOn | None:
    """Switch ``channel`` back on for ``tenant`` from the inbox (``gone.receiver_switch_on``, same address: staff
    fixed or checked the receiver) and queue what it missed (``deliveries_after_switch_on``). None when it was
    on already (nothing is queued); ``gone.NoReceiver`` when it has no address (it stays off)."""
    off_since = receiver_switch_on(tenant=tenant, channel=channel)
    if off_since is None:
        return None
    return deliveries_after_switch_on(tenant=tenant, channel=channel, off_since=off_since)


def _has_address(policy: EscalationPolicy, channel: str) -> bool:
    try:
        return bool(getattr(policy, SWITCHABLE[channel]))
    except DecryptionError:
        return False


@dataclass(frozen=True)
class RunAgain:
    """When the delivery's task must run again: ``seconds`` from now. ``retry``: an attempt failed
    (a retry of the task); otherwise this copy ran before the attempt was due and made none."""

    seconds: int
    retry: bool


def deliver(delivery_id: int, *, keep_schedule: bool = True) -> RunAgain | None:
    """One attempt. Returns when the task must run again (a retry, or a copy early for it), else None.

    The attempt leases the row under its lock before sending, so a copy of the task that runs
    meanwhile (a sweeper re-enqueue, a redelivered message) leaves it alone instead of sending twice.
    A copy that runs before the row's next attempt is due (another copy failed meanwhile and set it,
    honouring the receiver's Retry-After) makes no attempt and returns the seconds left. Eager mode,
    which cannot wait, passes ``keep_schedule=False``.
    """
    with transaction.atomic():
        delivery = NotificationDelivery.objects.select_for_update().filter(pk=delivery_id).first()
        if delivery is None or delivery.status in (DeliveryStatus.SENT, DeliveryStatus.FAILED):
            return None
        now = timezone.now()
        if delivery.leased_at(now):
            logger.info("notification delivery %s is being sent by another worker", delivery_id)
            return None
        if keep_schedule and delivery.early_at(now):
            wait = math.ceil((delivery.next_attempt_at - now).total_seconds())
            logger.info("notification delivery %s: next attempt due in %s s, not before", delivery_id, wait)
            return RunAgain(wait, retry=False)
        if (off := _off_now(delivery)) is not None:
            # Failed after the switch-off it read (not at ``now``, which may be before it): the re-send of what
            # failed while the receiver was off finds it.
            _fail_unsent(delivery, off, now=timezone.now())
            logger.info("notification delivery %s not sent: %s", delivery_id, off)
            return None
        if delivery.attempts >= MAX_ATTEMPTS:  # the last attempt was cut short (its worker killed)
            _fail_unsent(delivery, delivery.last_error or f"gave up after {delivery.attempts} attempts", now=now)
            logger.error("notification delivery %s failed: out of attempts", delivery_id)
            return None
        delivery.start_attempt(now)
        delivery.updated_at = now
        delivery.save(update_fields=["attempts", "leased_until", "updated_at"])
        # Read after the lock: a contact address committed before the lease rides with this attempt
        # (one committed later finds the attempt counted and sends a follow-up, see channels_that_went_out).
        escalation = Escalation.objects.select_related("tenant").get(
            pk=delivery.escalation_id, tenant_id=delivery.tenant_id
        )
        delivery.escalation = escalation
    try:
        _send(delivery)
    except TargetGone as exc:
        # The switch-off and this delivery's failure commit together: a switch-on waits for both, then re-sends it.
        with transaction.atomic():
            gone = receiver_gone(tenant=escalation.tenant, channel=delivery.channel, url=exc.url, reason=str(exc))
            if gone is not Gone.REPLACED:
                return _failed(delivery, escalation, exc, switched_off=gone is Gone.SWITCHED_OFF)
        # The old receiver's 410, after staff put a new address in its place: not the new one's answer, so
        # nothing is switched off, the attempt is not counted and the notification goes to the new address now.
        now = timezone.now()
        NotificationDelivery.objects.filter(pk=delivery.pk).update(
            attempts=delivery.attempts - 1, leased_until=None, next_attempt_at=now, updated_at=now
        )
        logger.info("notification delivery %s: %s from a replaced address; sending to the new one", delivery_id, exc)
        return RunAgain(0, retry=False)
    except DeliveryError as exc:
        return _failed(delivery, escalation, exc)
    now = timezone.now()
    NotificationDelivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.SENT, sent_at=now, updated_at=now, leased_until=None, last_error=""
    )
    return None


def _failed(
    delivery: NotificationDelivery, escalation: Escalation, exc: DeliveryError, *, switched_off: bool = False
) -> RunAgain | None:
    """Record a failed attempt: a retry when it may be retried, else the delivery's failure, logged unless
    it ``switched_off`` its channel (``gone`` warned of that once; a 410 when the channel was off already is
    logged like any failure)."""
    final = not exc.retryable or delivery.attempts >= MAX_ATTEMPTS
    retry_in = None if final else max(backoff_seconds(delivery.attempts), exc.retry_after or 0)
    now = timezone.now()
    NotificationDelivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.FAILED if final else DeliveryStatus.RETRYING,
        last_error=str(exc)[:2000],
        leased_until=None,
        next_attempt_at=now + timedelta(seconds=retry_in or 0),
        updated_at=now,
    )
    if retry_in is None:
        if isinstance(exc, NoAddress):  # the tenant's configuration: the failed delivery is recorded
            warn_hourly(
                logger,
                "escalation_no_address",
                escalation.tenant_id,
                "tenant %s: escalation %s: %s delivery not sent: %s; more of these are not logged for the "
                "tenant for an hour",
                escalation.tenant_id,
                escalation.pk,
                delivery.channel,
                exc,
            )
        elif not switched_off:
            logger.error("escalation %s: %s delivery failed: %s", escalation.pk, delivery.channel, exc)
        return None
    return RunAgain(retry_in, retry=True)


def _off_now(delivery: NotificationDelivery) -> str | None:
    """Why ``delivery``'s channel takes nothing now (None: it is on), read under the policy's share lock, held
    until the attempt's decision commits: a switch-on either commits first (the channel is on) or waits and then
    finds the delivery failed unsent, and re-sends it (``deliveries_resend_failed_while_off``)."""
    if delivery.channel not in SWITCHABLE:
        return None
    return off_message(policy_held(tenant_id=delivery.tenant_id), delivery.channel)


def _fail_unsent(delivery: NotificationDelivery, error: str, *, now: datetime) -> None:
    """Fail ``delivery`` (locked) without another attempt: its channel is switched off (``gone``), or it
    is out of attempts."""
    delivery.status = DeliveryStatus.FAILED
    delivery.last_error = error[:2000]
    delivery.leased_until = None
    delivery.updated_at = now
    delivery.save(update_fields=["status", "last_error", "leased_until", "updated_at"])


def _send(delivery: NotificationDelivery) -> None:
    """Send through the channel's sender; an error it did not expect is a retryable ``DeliveryError``
    (logged with its traceback), so the attempt is recorded and counted rather than left pending. A
    secret no configured key opens fails the delivery for good: retrying cannot bring the key back."""
    escalation = delivery.escalation
    try:
        SENDERS[delivery.channel].send(
            notice=notice_for(escalation, event=EventKind(delivery.event)),
            escalation=escalation,
            policy=policy_for(tenant=escalation.tenant),
        )
    except DeliveryError:
        raise
    except DecryptionError as exc:
        raise DeliveryError(f"{exc}; {SECRET_UNREADABLE_HINT}", retryable=False) from exc
    except Exception as exc:
        logger.exception("escalation %s: unexpected error in the %s sender", escalation.pk, delivery.channel)
        raise DeliveryError(f"unexpected error: {type(exc).__name__}: {exc}", retryable=True) from exc
