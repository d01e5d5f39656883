"""Which channels an escalation notifies, and the delivery of one ``NotificationDelivery``."""

from __future__ import annotations

import logging
from functools import partial

from django.db import transaction
from django.utils import timezone

from escalations.models import Channel, DeliveryStatus, Escalation, Mode, NotificationDelivery
from escalations.notifications.base import DeliveryError, Sender, notice_for
from escalations.notifications.email import EmailSender
from escalations.notifications.slack import SlackSender
from escalations.notifications.webhook import WebhookSender
from escalations.selectors import policy_for
from escalations.ticketing import TicketSender

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 5
SENDERS: dict[str, Sender] = {
    Channel.EMAIL: EmailSender(),
    Channel.SLACK: SlackSender(),
    Channel.WEBHOOK: WebhookSender(),
    Channel.TICKET: TicketSender(),
}


def channels_for(escalation: Escalation) -> list[Channel]:
    policy = policy_for(tenant=escalation.tenant)
    channels: list[Channel] = []
    if escalation.mode == Mode.TICKET:
        channels.append(Channel.TICKET)  # the default ticket *is* the email; no second email
    elif policy.notify_email and escalation.tenant.escalation_email:
        channels.append(Channel.EMAIL)
    if policy.slack_webhook_url:
        channels.append(Channel.SLACK)
    if policy.webhook_url:
        channels.append(Channel.WEBHOOK)
    return channels


def enqueue_delivery(delivery_id: int) -> None:
    from escalations.tasks import deliver_notification

    try:
        deliver_notification.delay(delivery_id)
    except Exception:  # broker down: the row stays pending and the sweeper re-enqueues it
        logger.exception("could not enqueue notification delivery %s", delivery_id)


def notify_escalation_created(escalation: Escalation) -> list[NotificationDelivery]:
    """Record one delivery per channel now; send them once the escalation is committed."""
    deliveries = [
        NotificationDelivery.objects.create(tenant_id=escalation.tenant_id, escalation=escalation, channel=channel)
        for channel in channels_for(escalation)
    ]
    for delivery in deliveries:
        transaction.on_commit(partial(enqueue_delivery, delivery.pk))
    return deliveries


def backoff_seconds(attempt: int) -> int:
    """30 s, 60 s, 120 s, 240 s … capped at 15 minutes."""
    return int(min(30 * 2 ** (attempt - 1), 900))


def deliver(delivery_id: int) -> int | None:
    """One attempt. Returns seconds until the next attempt when a retry is due, else None."""
    with transaction.atomic():
        delivery = (
            NotificationDelivery.objects.select_for_update()
            .select_related("escalation__tenant")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None or delivery.status in (DeliveryStatus.SENT, DeliveryStatus.FAILED):
            return None
        delivery.attempts += 1
        delivery.updated_at = timezone.now()
        delivery.save(update_fields=["attempts", "updated_at"])
    escalation = delivery.escalation
    try:
        SENDERS[delivery.channel].send(
            notice=notice_for(escalation), escalation=escalation, policy=policy_for(tenant=escalation.tenant)
        )
    except DeliveryError as exc:
        final = not exc.retryable or delivery.attempts >= MAX_ATTEMPTS
        status = DeliveryStatus.FAILED if final else DeliveryStatus.RETRYING
        NotificationDelivery.objects.filter(pk=delivery.pk).update(
            status=status, last_error=str(exc)[:2000], updated_at=timezone.now()
        )
        if final:
            logger.error("escalation %s: %s delivery failed: %s", escalation.pk, delivery.channel, exc)
            return None
        return max(backoff_seconds(delivery.attempts), exc.retry_after or 0)
    NotificationDelivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.SENT, sent_at=timezone.now(), updated_at=timezone.now(), last_error=""
    )
    return None
