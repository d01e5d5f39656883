"""An escalation raised while its tenant's receiver is being switched back on, each on its own thread and
connection, gets its notification once, whichever goes first: the raise decides its channels under the policy's
row lock, so either the switch-on waits for the raise to commit (and its scan of the escalations raised while
the receiver was off finds it) or the raise waits for the switch-on (and sees the receiver on)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from types import ModuleType
from typing import Any

import pytest
from django.core.cache import cache
from django.utils import timezone

from escalations import services
from escalations.models import Channel, DeliveryStatus, Escalation, EscalationPolicy, NotificationDelivery
from escalations.notifications import dispatch
from escalations.notifications.dispatch import deliver, receiver_back_on
from escalations.notifications.gone import receiver_switch_off
from escalations.services import escalation_raise
from escalations.tests.conftest import ALWAYS, set_hours
from escalations.tests.factories import ConversationFactory, EscalationFactory, MessageFactory
from escalations.tests.http_sink import Sink, http_sink
from escalations.tests.threads import committed_elsewhere, in_thread, until_done_or_waiting
from escalations.triggers import ReasonCode, TriggerHit
from supportai.models import Tenant

pytestmark = pytest.mark.django_db(transaction=True)  # each side commits on its own connection
HUMAN = TriggerHit(ReasonCode.HUMAN_REQUEST, "talk to a human")


def _webhook_off(tenant: Tenant, sink: Sink) -> None:
    set_hours(
        tenant,
        ALWAYS,
        notify_email=False,
        webhook_url=sink.url,
        webhook_secret="s3cret",
        webhook_disabled_at=timezone.now() - timedelta(minutes=5),
        webhook_disabled_reason="410 Gone: hook deleted",
    )


def _raising(tenant: Tenant) -> Callable[[], object]:
    conversation = ConversationFactory.create(tenant=tenant)
    MessageFactory.create(conversation=conversation, text="help")
    return lambda: escalation_raise(tenant=tenant, conversation_id=conversation.pk, hits=[HUMAN])


def _switching_on(tenant: Tenant) -> Callable[[], object]:
    return lambda: receiver_back_on(tenant=tenant, channel=Channel.WEBHOOK)


def _after(
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    meanwhile: Callable[[], object],
    *,
    before: bool = False,
    module: ModuleType = dispatch,
) -> None:
    """Run ``meanwhile`` once, right after the next call of ``<module>.<name>`` returns (``before``: right before
    it is called), in its caller's transaction."""
    original = getattr(module, name)
    pending = [meanwhile]

    def then_meanwhile(*args: Any, **kwargs: Any) -> Any:
        if before:
            while pending:
                pending.pop()()
        result = original(*args, **kwargs)
        while pending:
            pending.pop()()
        return result

    monkeypatch.setattr(module, name, then_meanwhile)


Other = list[tuple[threading.Thread, list[Any], list[int]]]


def _meanwhile(work: Callable[[], object], other: Other) -> None:
    """Start ``work`` on another thread and connection; go on once it finished or waits for a lock held here."""
    other.append(in_thread(work))
    until_done_or_waiting(other[0][0], other[0][2])


def _joined(other: Other) -> None:
    """Wait for the work started by ``_meanwhile`` to finish: it did, without an error."""
    thread, results, _ = other[0]
    thread.join(20)
    assert not thread.is_alive() and len(results) == 1


def _received(sink: Sink) -> list[int]:
    return sorted(json.loads(request.body)["escalation_id"] for request in sink.received)


@pytest.mark.parametrize("first", ["raise", "switch_on"])
def test_an_escalation_raised_while_its_receiver_is_switched_on_is_notified_once(
    tenant: Tenant, other_tenant: Tenant, monkeypatch: pytest.MonkeyPatch, first: str
) -> None:
    cache.clear()  # the per-tenant raise limits
    with http_sink([]) as sink:
        # given: a webhook switched off by a 410, here and for another tenant on the same address
        _webhook_off(tenant, sink)
        _webhook_off(other_tenant, sink)
        _raising(other_tenant)()
        theirs = Escalation.objects.get(tenant=other_tenant)
        raising, switching_on = _raising(tenant), _switching_on(tenant)
        if first == "raise":
            # when: the webhook is switched back on in the inbox once the raise decided its channels, before it
            # commits (the switch-on finishes, or waits for the raise)
            work, pause, main = switching_on, "channels_for", raising
        else:
            # when: the escalation is raised once the switch-on queued what the receiver missed, before it commits
            # (the raise finishes, or waits for the switch-on)
            work, pause, main = raising, "deliveries_after_switch_on", switching_on
        other: Other = []
        _after(monkeypatch, pause, partial(_meanwhile, work, other))
        main()
        _joined(other)
        # then: the receiver is on, and it was told of the escalation once
        escalation_id = Escalation.objects.get(tenant=tenant).pk
        assert EscalationPolicy.objects.get(tenant=tenant).disabled_at(Channel.WEBHOOK) is None
        (delivery,) = NotificationDelivery.objects.filter(escalation_id=escalation_id, channel=Channel.WEBHOOK)
        assert delivery.status == DeliveryStatus.SENT and _received(sink) == [escalation_id]
    # and the other tenant's webhook is still off, its escalation raised while off without a delivery
    assert EscalationPolicy.objects.get(tenant=other_tenant).disabled_at(Channel.WEBHOOK) is not None
    assert not NotificationDelivery.objects.filter(escalation=theirs).exists()


@pytest.mark.parametrize("first", ["attempt", "switch_on"])
def test_a_notification_queued_while_its_receiver_is_switched_on_is_sent_once(
    tenant: Tenant, other_tenant: Tenant, monkeypatch: pytest.MonkeyPatch, first: str
) -> None:
    with http_sink([]) as sink:
        # given: a webhook switched off by a 410, here and for another tenant on the same address, and a
        # notification of each queued, not attempted yet
        _webhook_off(tenant, sink)
        _webhook_off(other_tenant, sink)
        ours, theirs = (
            NotificationDelivery.objects.create(
                tenant=each, escalation=EscalationFactory.create(conversation__tenant=each), channel=Channel.WEBHOOK
            )
            for each in (tenant, other_tenant)
        )
        attempting: Callable[[], object] = partial(deliver, ours.pk)
        if first == "attempt":
            # when: the webhook is switched back on in the inbox once the attempt found it off, before the attempt
            # commits (the switch-on finishes, or waits for the attempt)
            work, pause, main = _switching_on(tenant), "off_message", attempting
        else:
            # when: the notification is attempted once the switch-on queued what the receiver missed, before it
            # commits (the attempt finishes, or waits for the switch-on)
            work, pause, main = attempting, "deliveries_after_switch_on", _switching_on(tenant)
        other: Other = []
        _after(monkeypatch, pause, partial(_meanwhile, work, other))
        main()
        _joined(other)
        # then: the receiver is on, and it got the notification once
        assert EscalationPolicy.objects.get(tenant=tenant).disabled_at(Channel.WEBHOOK) is None
        ours.refresh_from_db()
        assert ours.status == DeliveryStatus.SENT and _received(sink) == [ours.escalation_id]
    # and the other tenant's webhook is still off, its notification not sent
    assert EscalationPolicy.objects.get(tenant=other_tenant).disabled_at(Channel.WEBHOOK) is not None
    assert NotificationDelivery.objects.get(pk=theirs.pk).status == DeliveryStatus.PENDING


def test_a_notification_whose_410_switches_its_receiver_off_as_staff_switch_it_on_is_sent_again(
    tenant: Tenant, other_tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    with http_sink([410], error_body=b"hook deleted") as sink:
        # given: a webhook that is on, with a notification queued, and another tenant's webhook switched off
        set_hours(tenant, ALWAYS, notify_email=False, webhook_url=sink.url, webhook_secret="s3cret")
        _webhook_off(other_tenant, sink)
        delivery = NotificationDelivery.objects.create(
            tenant=tenant, escalation=EscalationFactory.create(conversation__tenant=tenant), channel=Channel.WEBHOOK
        )
        # when: its receiver answers 410, and staff switch the webhook back on in the inbox as soon as the 410 has
        # switched it off (the switch-on finishes, or waits for the attempt)
        other: Other = []
        _after(monkeypatch, "receiver_gone", partial(_meanwhile, _switching_on(tenant), other))
        deliver(delivery.pk)
        _joined(other)
        # then: the receiver is on, and the notification went again once it was
        assert EscalationPolicy.objects.get(tenant=tenant).disabled_at(Channel.WEBHOOK) is None
        delivery.refresh_from_db()
        assert delivery.status == DeliveryStatus.SENT
        assert _received(sink) == [delivery.escalation_id, delivery.escalation_id]
    # and the other tenant's webhook is still off
    assert EscalationPolicy.objects.get(tenant=other_tenant).disabled_at(Channel.WEBHOOK) is not None


def test_a_notification_found_off_just_after_a_410_switched_its_receiver_off_is_sent_once_it_is_back_on(
    tenant: Tenant, other_tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    with http_sink([]) as sink:
        # given: a webhook that is on, with a notification queued, here and for another tenant
        for each in (tenant, other_tenant):
            set_hours(each, ALWAYS, notify_email=False, webhook_url=sink.url, webhook_secret="s3cret")
        delivery = NotificationDelivery.objects.create(
            tenant=tenant, escalation=EscalationFactory.create(conversation__tenant=tenant), channel=Channel.WEBHOOK
        )
        # and another notification's 410 switching the webhook off as the attempt has begun, before it reads
        # whether the webhook is on
        switch_off = partial(
            receiver_switch_off, tenant=tenant, channel=Channel.WEBHOOK, url=sink.url, reason="410 Gone: hook deleted"
        )
        _after(monkeypatch, "_off_now", partial(committed_elsewhere, switch_off), before=True)
        deliver(delivery.pk)
        delivery.refresh_from_db()
        assert delivery.status == DeliveryStatus.FAILED and sink.received == []
        # when: staff switch the webhook back on in the inbox
        back_on = receiver_back_on(tenant=tenant, channel=Channel.WEBHOOK)
        # then: the notification that failed unsent while it was off went once
        assert back_on is not None and back_on.resent == 1
        delivery.refresh_from_db()
        assert delivery.status == DeliveryStatus.SENT and _received(sink) == [delivery.escalation_id]
    # and the other tenant's webhook is still on, untouched
    assert EscalationPolicy.objects.get(tenant=other_tenant).disabled_at(Channel.WEBHOOK) is None


def test_an_escalation_raised_as_a_410_switches_its_receiver_off_is_sent_once_it_is_back_on(
    tenant: Tenant, other_tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache.clear()  # the per-tenant raise limits
    with http_sink([]) as sink:
        # given: a webhook that is on, here and for another tenant
        for each in (tenant, other_tenant):
            set_hours(each, ALWAYS, notify_email=False, webhook_url=sink.url, webhook_secret="s3cret")
        # and another notification's 410 switching the webhook off as an escalation is being raised, before the
        # raise reads the policy
        switch_off = partial(
            receiver_switch_off, tenant=tenant, channel=Channel.WEBHOOK, url=sink.url, reason="410 Gone: hook deleted"
        )
        _after(monkeypatch, "policy_held", partial(committed_elsewhere, switch_off), before=True, module=services)
        _raising(tenant)()
        escalation = Escalation.objects.get(tenant=tenant)
        assert not escalation.deliveries.exists()
        # when: staff switch the webhook back on in the inbox
        back_on = receiver_back_on(tenant=tenant, channel=Channel.WEBHOOK)
        # then: the escalation raised while it was off went once
        assert back_on is not None and back_on.raised == 1
        assert escalation.deliveries.get().status == DeliveryStatus.SENT and _received(sink) == [escalation.pk]
    # and the other tenant's webhook is still on, untouched
    assert EscalationPolicy.objects.get(tenant=other_tenant).disabled_at(Channel.WEBHOOK) is None
