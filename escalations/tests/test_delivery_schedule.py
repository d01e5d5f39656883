"""A copy of the delivery task that runs before the row's next attempt is due (the sweeper's, or a
message the broker redelivered) waits for it, keeping the receiver's Retry-After; eager mode, which
cannot wait, still runs its retries back to back."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from celery.app.task import Context
from celery.exceptions import Retry
from django.utils import timezone

from escalations.models import DeliveryStatus, NotificationDelivery
from escalations.notifications.dispatch import MAX_ATTEMPTS, RunAgain, deliver
from escalations.services import escalation_raise
from escalations.tasks import deliver_notification
from escalations.tests.conftest import ALWAYS, set_hours
from escalations.tests.factories import ConversationFactory
from escalations.tests.http_sink import Sink, http_sink
from escalations.triggers import ReasonCode, TriggerHit
from supportai.models import Tenant

pytestmark = pytest.mark.django_db
Capture = Callable[..., Any]
HUMAN = TriggerHit(ReasonCode.HUMAN_REQUEST, "human")
HOUR_WAIT = {"Retry-After": "3600"}


def _slack_escalation(tenant: Tenant, capture: Capture, sink: Sink, *, send: bool) -> NotificationDelivery:
    """An escalation notifying Slack; its task run (eagerly) when ``send``, else only recorded."""
    set_hours(tenant, ALWAYS, notify_email=False, slack_webhook_url=sink.url)
    conversation = ConversationFactory.create(tenant=tenant)
    with capture(execute=send):
        raised = escalation_raise(tenant=tenant, conversation_id=conversation.pk, hits=[HUMAN])
    return NotificationDelivery.objects.get(escalation=raised.escalation)


def test_a_duplicate_copy_before_the_retry_is_due_waits_for_it(
    tenant: Tenant, other_tenant: Tenant, django_capture_on_commit_callbacks: Capture
) -> None:
    # given a delivery whose first attempt met a 429 asking for an hour's wait, and another tenant's
    # delivery due now
    with http_sink([429], headers=HOUR_WAIT, error_body=b"rate_limited") as slack, http_sink([]) as other_slack:
        delivery = _slack_escalation(tenant, django_capture_on_commit_callbacks, slack, send=False)
        assert deliver(delivery.pk) == RunAgain(3600, retry=True)
        other = _slack_escalation(other_tenant, django_capture_on_commit_callbacks, other_slack, send=False)
        # when a second copy of its task runs at once (a redelivered message)
        wait = deliver(delivery.pk)
        # then it makes no attempt and asks to run again when the retry is due
        assert wait is not None and not wait.retry and 3590 <= wait.seconds <= 3600 and len(slack.received) == 1
        # and the other tenant's delivery, due now, is sent when its task runs
        assert deliver(other.pk) is None and len(other_slack.received) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.leased_until) == (DeliveryStatus.RETRYING, 1, None)
    other.refresh_from_db()
    assert (other.status, other.attempts) == (DeliveryStatus.SENT, 1)


def _broker_messages() -> list[dict[str, Any]]:
    """Take every task message off the (memory) broker's default queue: their headers (task, args,
    eta, retries)."""
    app = deliver_notification.app
    taken = []
    with app.connection_for_read() as connection:
        queue = connection.SimpleQueue(app.conf.task_default_queue)
        while True:
            try:
                message = queue.get(block=False)
            except queue.Empty:
                break
            taken.append(dict(message.headers))
            message.ack()
        queue.close()
    return taken


def _run_on_a_worker(delivery_id: int, *, retries: int) -> None:
    """Run the task as a worker would, as a copy that the broker delivered after ``retries`` retries."""
    on_a_worker = {"id": "copy", "args": [delivery_id], "kwargs": {}, "retries": retries, "called_directly": False}
    deliver_notification.request_stack.push(Context(on_a_worker))
    try:
        deliver_notification.run(delivery_id)
    finally:
        deliver_notification.pop_request()


@pytest.mark.parametrize("retries", [0, MAX_ATTEMPTS])
def test_a_copy_on_a_broker_re_schedules_itself_for_when_the_retry_is_due_without_spending_a_retry(
    tenant: Tenant, django_capture_on_commit_callbacks: Capture, monkeypatch: pytest.MonkeyPatch, retries: int
) -> None:
    # given a delivery waiting an hour after a 429, and a worker on a broker (not eager)
    monkeypatch.setitem(deliver_notification.app.conf, "task_always_eager", False)  # the broker is memory://
    _broker_messages()
    with http_sink([429], headers=HOUR_WAIT, error_body=b"rate_limited") as slack:
        delivery = _slack_escalation(tenant, django_capture_on_commit_callbacks, slack, send=False)
        assert deliver(delivery.pk) == RunAgain(3600, retry=True)
        # when a copy of its task runs on the worker at once, however many retries that copy had made
        before = timezone.now()
        _run_on_a_worker(delivery.pk, retries=retries)
    # then it queues a fresh copy for the rest of the hour with its retries unspent, without a request to Slack
    (copy,) = _broker_messages()
    assert (copy["task"], copy["retries"], copy["argsrepr"]) == (
        "escalations.deliver_notification",
        retries,
        f"({delivery.pk},)",
    )
    due_in = (datetime.fromisoformat(copy["eta"]) - before).total_seconds()
    assert 3590 <= due_in <= 3601
    assert len(slack.received) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.RETRYING, 1)


def test_a_failed_attempt_on_a_broker_spends_a_retry(
    tenant: Tenant, django_capture_on_commit_callbacks: Capture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(deliver_notification.app.conf, "task_always_eager", False)
    with http_sink([503]) as slack:
        delivery = _slack_escalation(tenant, django_capture_on_commit_callbacks, slack, send=False)
        with pytest.raises(Retry) as retried:
            _run_on_a_worker(delivery.pk, retries=1)
    assert retried.value.when == 30 and len(slack.received) == 1


def test_eager_mode_still_makes_a_retry_at_once(tenant: Tenant, django_capture_on_commit_callbacks: Capture) -> None:
    # given Slack asking for an hour's wait once, then accepting
    with http_sink([429], headers=HOUR_WAIT, error_body=b"rate_limited") as slack:
        # when the escalation's task runs eagerly (no broker: it cannot wait)
        delivery = _slack_escalation(tenant, django_capture_on_commit_callbacks, slack, send=True)
    # then the retry is made at once and the delivery is sent
    assert len(slack.received) == 2
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SENT, 2)
