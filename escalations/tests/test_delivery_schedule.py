"""A copy of the delivery task that runs before the row's next attempt is due (the sweeper's, or a
message the broker redelivered) waits for it, keeping the receiver's Retry-After; eager mode, which
cannot wait, still runs its retries back to back."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from celery.app.task import Context
from celery.exceptions import Retry

from escalations.models import DeliveryStatus, NotificationDelivery
from escalations.notifications.dispatch import deliver
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
        assert deliver(delivery.pk) == 3600
        other = _slack_escalation(other_tenant, django_capture_on_commit_callbacks, other_slack, send=False)
        # when a second copy of its task runs at once (a redelivered message)
        wait = deliver(delivery.pk)
        # then it makes no attempt and asks to run again when the retry is due
        assert wait is not None and 3590 <= wait <= 3600 and len(slack.received) == 1
        # and the other tenant's delivery, due now, is sent when its task runs
        assert deliver(other.pk) is None and len(other_slack.received) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.leased_until) == (DeliveryStatus.RETRYING, 1, None)
    other.refresh_from_db()
    assert (other.status, other.attempts) == (DeliveryStatus.SENT, 1)


def test_a_copy_on_a_broker_re_schedules_itself_for_when_the_retry_is_due(
    tenant: Tenant, django_capture_on_commit_callbacks: Capture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a delivery waiting an hour after a 429, and a worker on a broker (not eager)
    monkeypatch.setitem(deliver_notification.app.conf, "task_always_eager", False)  # the broker is memory://
    with http_sink([429], headers=HOUR_WAIT, error_body=b"rate_limited") as slack:
        delivery = _slack_escalation(tenant, django_capture_on_commit_callbacks, slack, send=False)
        assert deliver(delivery.pk) == 3600
        # when a copy of its task runs on the worker at once
        on_a_worker = {"id": "copy", "args": [delivery.pk], "kwargs": {}, "retries": 0, "called_directly": False}
        deliver_notification.request_stack.push(Context(on_a_worker))
        try:
            with pytest.raises(Retry) as retried:
                deliver_notification.run(delivery.pk)
        finally:
            deliver_notification.pop_request()
    # then it re-schedules itself for the rest of the hour, without a request to Slack
    assert isinstance(retried.value.when, int) and 3590 <= retried.value.when <= 3600
    assert len(slack.received) == 1


def test_eager_mode_still_makes_a_retry_at_once(tenant: Tenant, django_capture_on_commit_callbacks: Capture) -> None:
    # given Slack asking for an hour's wait once, then accepting
    with http_sink([429], headers=HOUR_WAIT, error_body=b"rate_limited") as slack:
        # when the escalation's task runs eagerly (no broker: it cannot wait)
        delivery = _slack_escalation(tenant, django_capture_on_commit_callbacks, slack, send=True)
    # then the retry is made at once and the delivery is sent
    assert len(slack.received) == 2
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SENT, 2)
