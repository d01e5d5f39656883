"""Celery tasks of the handoff. Without ``REDIS_URL`` they run eagerly, in-process."""

from __future__ import annotations

from datetime import timedelta

from celery import Task, shared_task
from django.utils import timezone

from escalations import presence_sweep
from escalations.models import DeliveryStatus, NotificationDelivery
from escalations.notifications.dispatch import MAX_ATTEMPTS, deliver, enqueue_delivery
from escalations.presence_sweep import LOST_CONNECTIONS_TASK
from supportai.outbox import overdue_unleased

STUCK_AFTER = timedelta(minutes=10)


@shared_task(name="escalations.deliver_notification", bind=True, max_retries=MAX_ATTEMPTS)
def deliver_notification(self: Task, delivery_id: int) -> None:
    """One attempt; on a retryable failure the task re-schedules itself with exponential backoff.

    A copy that runs before the next attempt is due queues a fresh copy for then, its retries unspent
    (it made no attempt). Eager mode (no broker, development and tests) cannot schedule: the attempts
    run back to back, due or not.
    """
    eager = bool(self.request.is_eager)
    again = deliver(delivery_id, keep_schedule=not eager)
    if eager:
        while again is not None:
            again = deliver(delivery_id, keep_schedule=False)
        return
    if again is None:
        return
    if again.retry:
        raise self.retry(countdown=again.seconds)
    # The copy self.retry would queue, with this copy's retries: only a failed attempt spends one.
    self.signature_from_request(countdown=again.seconds, retries=self.request.retries).apply_async()


@shared_task(name="escalations.sweep_deliveries")
def sweep_deliveries() -> int:
    """Re-enqueue deliveries whose next attempt is overdue by ``STUCK_AFTER`` and that no worker is
    sending: never picked up (broker down at commit time) or their scheduled retry lost (worker killed).

    A retry still waiting for its time (a ``Retry-After`` of up to an hour) is left to its own task.
    """
    now = timezone.now()
    retryable = NotificationDelivery.objects.filter(status__in=[DeliveryStatus.PENDING, DeliveryStatus.RETRYING])
    stuck = list(overdue_unleased(retryable, now=now, overdue_by=STUCK_AFTER).values_list("pk", flat=True)[:500])
    for delivery_id in stuck:
        enqueue_delivery(delivery_id)
    return len(stuck)


@shared_task(name=LOST_CONNECTIONS_TASK)
def tell_lost_connections() -> int:
    """Tell the inbox live of each handed-off customer's lost connection, once a lapse (``presence_sweep``)."""
    return presence_sweep.tell_lost_connections()
