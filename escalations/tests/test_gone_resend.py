"""A receiver switched off by a 410 and switched back on, with a new address in the admin or at the same one from
the inbox, gets, once, the notifications that failed while it was off and still matter (open escalations, from
the last 24 hours); the admin or inbox says how many were queued again. Older, resolved, other tenants' and
earlier failures stay as they were. On either switch-on the open escalations raised while it was off, which made
no delivery for it, get one each, once."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from escalations.console_views import NO_RECEIVER
from escalations.models import (
    Channel,
    DeliveryStatus,
    Escalation,
    EscalationPolicy,
    EventKind,
    NotificationDelivery,
    Status,
)
from escalations.notifications.dispatch import RESEND_WITHIN, deliver, deliveries_resend_failed_while_off
from escalations.services import contact_email_capture, escalation_raise
from escalations.tests.admin_forms import logged_in, policy_form
from escalations.tests.conftest import ALWAYS, NEVER, set_hours
from escalations.tests.factories import ConversationFactory, MessageFactory
from escalations.tests.http_sink import Sink, http_sink
from escalations.tests.test_admin_notifications import change_url
from escalations.triggers import ReasonCode, TriggerHit
from supportai.models import Tenant

pytestmark = pytest.mark.django_db
Capture = Callable[..., Any]
HUMAN = TriggerHit(ReasonCode.HUMAN_REQUEST, "talk to a human")
TARGETS = {Channel.SLACK: "slack_webhook_url", Channel.WEBHOOK: "webhook_url"}
FIELDS = {"webhook_secret": "s3cret", "notify_email": "", "weekly_hours": json.dumps(ALWAYS)}


def _policy(tenant: Tenant, channel: Channel, sink: Sink) -> EscalationPolicy:
    return set_hours(tenant, ALWAYS, notify_email=False, webhook_secret="s3cret", **{TARGETS[channel]: sink.url})


def _raise(tenant: Tenant, capture: Capture, *, execute: bool = True) -> Escalation:
    conversation = ConversationFactory.create(tenant=tenant)
    MessageFactory.create(conversation=conversation, text="help")
    with capture(execute=execute):
        return escalation_raise(tenant=tenant, conversation_id=conversation.pk, hits=[HUMAN]).escalation


def _delivery(escalation: Escalation, channel: Channel = Channel.WEBHOOK) -> NotificationDelivery:
    return NotificationDelivery.objects.get(escalation=escalation, channel=channel, event=EventKind.CREATED)


def _failed_row(escalation: Escalation, channel: Channel, **fields: Any) -> NotificationDelivery:
    """A delivery that failed earlier (made here: its failure's cause is not what these tests are about)."""
    return NotificationDelivery.objects.create(
        tenant=escalation.tenant, escalation=escalation, channel=channel, status=DeliveryStatus.FAILED, **fields
    )


def _escalations_received(sink: Sink) -> list[int]:
    """The escalations the receiver was told of: the webhook's ``escalation_id``, Slack's "escalation #N"."""
    bodies = [json.loads(request.body) for request in sink.received]
    return sorted(
        body["escalation_id"] if "escalation_id" in body else int(re.findall(r"escalation #(\d+)", body["text"])[0])
        for body in bodies
    )


def test_a_new_webhook_address_gets_the_notifications_that_failed_while_it_was_off(
    tenant: Tenant, other_tenant: Tenant, owner: User, settings: Any, django_capture_on_commit_callbacks: Capture
) -> None:
    settings.DEBUG = True  # the admin takes the sinks' http:// addresses
    capture = django_capture_on_commit_callbacks
    with http_sink([410, 410], error_body=b"hook deleted") as old, http_sink([]) as new:
        # given: an escalation whose webhook failed for another reason before the receiver went
        policy = _policy(tenant, Channel.WEBHOOK, old)
        earlier = _raise(tenant, capture, execute=False)
        NotificationDelivery.objects.filter(escalation=earlier).update(
            status=DeliveryStatus.FAILED, updated_at=timezone.now() - timedelta(minutes=5)
        )
        # and two escalations queued together: the first's 410 switches the webhook off, the second then
        # fails unsent; an update of the first fails while off too
        gone = _raise(tenant, capture, execute=False)
        queued = _raise(tenant, capture, execute=False)
        deliver(_delivery(gone).pk)
        deliver(_delivery(queued).pk)
        off_since = EscalationPolicy.objects.get(tenant=tenant).webhook_disabled_at
        assert off_since is not None
        _failed_row(gone, Channel.WEBHOOK, event=EventKind.UPDATED)
        # and failed while off, but no longer relevant: one resolved since, one from over a day ago
        resolved = _raise(tenant, capture)
        _failed_row(resolved, Channel.WEBHOOK)
        Escalation.objects.filter(pk=resolved.pk).update(status=Status.RESOLVED, resolved_at=timezone.now())
        stale = _raise(tenant, capture)
        _failed_row(stale, Channel.WEBHOOK, created_at=timezone.now() - RESEND_WITHIN - timedelta(minutes=1))
        # and another tenant, on the same old address, switched off by its own 410
        _policy(other_tenant, Channel.WEBHOOK, old)
        theirs = _raise(other_tenant, capture)
        assert _delivery(theirs).status == DeliveryStatus.FAILED
        assert len(old.received) == 2 and new.received == []
        client = logged_in(owner)
        # when: an owner enters a new address in the policy admin
        with capture(execute=True):
            response = client.post(change_url(policy), policy_form(tenant, webhook_url=new.url, **FIELDS), follow=True)
        # then: the webhook is back on, and the new address got each open escalation that failed while it was
        # off, once (the escalation as it is now: its update rides with it)
        page = response.content.decode()
        assert "Webhook notifications are back on: its address changed." in page
        assert "2 notifications that failed while it was off were queued again for it (open escalations" in page
        assert _escalations_received(new) == sorted([gone.pk, queued.pk])
        assert _delivery(gone).status == _delivery(queued).status == DeliveryStatus.SENT
        assert (
            NotificationDelivery.objects.get(escalation=gone, event=EventKind.UPDATED).status == DeliveryStatus.FAILED
        )
        # and the rest stay failed, unsent: the earlier failure, the resolved and the stale escalations
        for escalation in (earlier, resolved, stale):
            assert {d.status for d in escalation.deliveries.all()} == {DeliveryStatus.FAILED}
        # and the other tenant's receiver is still off, its delivery failed
        assert EscalationPolicy.objects.get(tenant=other_tenant).webhook_disabled_at is not None
        assert _delivery(theirs).status == DeliveryStatus.FAILED
        # when: the policy is saved again with the same new address
        with capture(execute=True):
            again = client.post(change_url(policy), policy_form(tenant, webhook_url=new.url, **FIELDS), follow=True)
        # then: nothing is switched on or sent again
        assert "queued again" not in again.content.decode() and "back on" not in again.content.decode()
        assert len(new.received) == 2 and len(old.received) == 2


def test_the_admin_says_when_nothing_was_left_to_send(
    tenant: Tenant, owner: User, settings: Any, django_capture_on_commit_callbacks: Capture
) -> None:
    # given: a webhook switched off by a 410 whose escalation was resolved since
    settings.DEBUG = True
    with http_sink([410]) as old, http_sink([]) as new:
        policy = _policy(tenant, Channel.WEBHOOK, old)
        escalation = _raise(tenant, django_capture_on_commit_callbacks)
        Escalation.objects.filter(pk=escalation.pk).update(status=Status.RESOLVED, resolved_at=timezone.now())
        # when: a new address is entered
        with django_capture_on_commit_callbacks(execute=True):
            response = logged_in(owner).post(
                change_url(policy), policy_form(tenant, webhook_url=new.url, **FIELDS), follow=True
            )
        # then
        page = response.content.decode()
        assert "Webhook notifications are back on: its address changed." in page
        assert "No notification of an open escalation failed while it was off" in page
        assert new.received == []


def test_a_new_slack_address_gets_what_failed_while_it_was_off_once(
    tenant: Tenant, other_tenant: Tenant, django_capture_on_commit_callbacks: Capture
) -> None:
    capture = django_capture_on_commit_callbacks
    with http_sink([410], error_body=b"channel_is_archived") as old, http_sink([]) as new:
        # given: Slack switched off by a 410, and the same for another tenant's failed delivery
        _policy(tenant, Channel.SLACK, old)
        escalation = _raise(tenant, capture)
        policy = EscalationPolicy.objects.get(tenant=tenant)
        off_since = policy.slack_disabled_at
        assert off_since is not None and _delivery(escalation, Channel.SLACK).status == DeliveryStatus.FAILED
        theirs = _raise(other_tenant, capture)
        _failed_row(theirs, Channel.SLACK)
        # when: staff give Slack a new address and it is switched back on
        EscalationPolicy.objects.filter(pk=policy.pk).update(slack_disabled_at=None)
        policy.refresh_from_db()
        policy.slack_webhook_url = new.url
        policy.save()
        with capture(execute=True):
            requeued = deliveries_resend_failed_while_off(tenant=tenant, channel=Channel.SLACK, off_since=off_since)
        # then: our delivery went to the new address, the other tenant's was left alone
        assert requeued == 1 and _escalations_received(new) == [escalation.pk]
        assert _delivery(escalation, Channel.SLACK).status == DeliveryStatus.SENT
        assert _delivery(theirs, Channel.SLACK).status == DeliveryStatus.FAILED
        # when: the same is asked again, it finds nothing more to send
        with capture(execute=True):
            assert deliveries_resend_failed_while_off(tenant=tenant, channel=Channel.SLACK, off_since=off_since) == 0
        assert len(new.received) == 1


def _no_delivery(escalation: Escalation, channel: Channel) -> bool:
    return not NotificationDelivery.objects.filter(escalation=escalation, channel=channel).exists()


def test_a_new_webhook_address_gets_the_escalations_raised_while_it_was_off(
    tenant: Tenant, other_tenant: Tenant, owner: User, settings: Any, django_capture_on_commit_callbacks: Capture
) -> None:
    settings.DEBUG = True  # the admin takes the sinks' http:// addresses
    capture = django_capture_on_commit_callbacks
    with http_sink([410, 410], error_body=b"hook deleted") as old, http_sink([]) as new:
        # given: an escalation raised before the tenant had a webhook (it never made a delivery for it)
        set_hours(tenant, ALWAYS, notify_email=False)
        before = _raise(tenant, capture)
        # and a webhook switched off by the 410 of the next escalation
        policy = _policy(tenant, Channel.WEBHOOK, old)
        gone = _raise(tenant, capture)
        assert EscalationPolicy.objects.get(tenant=tenant).webhook_disabled_at is not None
        # and two escalations raised while it was off: one still open, one resolved since
        missed = _raise(tenant, capture)
        resolved = _raise(tenant, capture)
        Escalation.objects.filter(pk=resolved.pk).update(status=Status.RESOLVED, resolved_at=timezone.now())
        # and another tenant on the same old address, switched off, with an escalation raised while off
        _policy(other_tenant, Channel.WEBHOOK, old)
        _raise(other_tenant, capture)
        theirs = _raise(other_tenant, capture)
        for escalation in (before, missed, resolved):
            assert _no_delivery(escalation, Channel.WEBHOOK)
        assert _no_delivery(theirs, Channel.WEBHOOK) and len(old.received) == 2
        client = logged_in(owner)
        # when: an owner enters a new address in the policy admin
        with capture(execute=True):
            response = client.post(change_url(policy), policy_form(tenant, webhook_url=new.url, **FIELDS), follow=True)
        # then: the new address got the 410's escalation again and the open one raised while it was off, once each
        page = response.content.decode()
        assert (
            "1 notification that failed while it was off was queued again for it (open escalations, the last 24 hours)."
            in page
        )
        assert "1 open escalation raised while it was off was queued for it (the last 24 hours)." in page
        assert _escalations_received(new) == sorted([gone.pk, missed.pk])
        assert _delivery(missed).status == DeliveryStatus.SENT
        # and the escalation from before the webhook and the resolved one made no delivery
        for escalation in (before, resolved):
            assert _no_delivery(escalation, Channel.WEBHOOK)
        # and the other tenant's receiver is still off, its escalation without a delivery
        assert EscalationPolicy.objects.get(tenant=other_tenant).webhook_disabled_at is not None
        assert _no_delivery(theirs, Channel.WEBHOOK)
        # when: the policy is saved again with the same new address
        with capture(execute=True):
            again = client.post(change_url(policy), policy_form(tenant, webhook_url=new.url, **FIELDS), follow=True)
        # then: nothing more is sent
        assert "back on" not in again.content.decode() and "raised while it was off" not in again.content.decode()
        assert len(new.received) == 2 and NotificationDelivery.objects.filter(escalation=missed).count() == 1


def test_the_admin_says_when_no_escalation_was_raised_while_it_was_off(
    tenant: Tenant, owner: User, settings: Any, django_capture_on_commit_callbacks: Capture
) -> None:
    # given: a webhook switched off by a 410, nothing raised since
    settings.DEBUG = True
    with http_sink([410]) as old, http_sink([]) as new:
        policy = _policy(tenant, Channel.WEBHOOK, old)
        _raise(tenant, django_capture_on_commit_callbacks)
        # when: a new address is entered
        with django_capture_on_commit_callbacks(execute=True):
            response = logged_in(owner).post(
                change_url(policy), policy_form(tenant, webhook_url=new.url, **FIELDS), follow=True
            )
        # then: the admin says so
        assert "No open escalation was raised while it was off in the last 24 hours." in response.content.decode()


def test_switching_slack_back_on_in_the_inbox_sends_the_escalations_raised_while_it_was_off_once(
    tenant: Tenant, other_tenant: Tenant, owner: User, django_capture_on_commit_callbacks: Capture
) -> None:
    capture = django_capture_on_commit_callbacks
    with http_sink([410, 410], error_body=b"channel_is_archived") as sink:
        # given: Slack switched off by a 410 over a day ago, and four escalations raised while it was off: two
        # still open, one resolved since, one from over a day ago
        _policy(tenant, Channel.SLACK, sink)
        gone = _raise(tenant, capture)
        EscalationPolicy.objects.filter(tenant=tenant).update(
            slack_disabled_at=timezone.now() - RESEND_WITHIN - timedelta(hours=1)
        )
        first = _raise(tenant, capture)
        second = _raise(tenant, capture)
        resolved = _raise(tenant, capture)
        Escalation.objects.filter(pk=resolved.pk).update(status=Status.RESOLVED, resolved_at=timezone.now())
        stale = _raise(tenant, capture)
        Escalation.objects.filter(pk=stale.pk).update(created_at=timezone.now() - RESEND_WITHIN - timedelta(minutes=1))
        # and another tenant's Slack on the same address, off too, with an escalation raised while off
        _policy(other_tenant, Channel.SLACK, sink)
        their_gone = _raise(other_tenant, capture)
        theirs = _raise(other_tenant, capture)
        assert len(sink.received) == 2 and _no_delivery(first, Channel.SLACK) and _no_delivery(theirs, Channel.SLACK)
        client = logged_in(owner)
        # when: the owner switches Slack back on in the inbox, the address unchanged
        with capture(execute=True):
            response = client.post("/console/inbox/notifications/slack/enable/", follow=True)
        # then: the inbox says how many were queued, and Slack got each open one once (the 410's own again)
        page = response.content.decode()
        assert "Slack notifications are back on. 1 notification that failed while it was off was queued again" in page
        assert "2 open escalations raised while it was off were queued for it" in page
        assert _escalations_received(sink) == sorted([gone.pk, gone.pk, first.pk, second.pk, their_gone.pk])
        assert _delivery(first, Channel.SLACK).status == _delivery(second, Channel.SLACK).status == DeliveryStatus.SENT
        assert _no_delivery(resolved, Channel.SLACK) and _no_delivery(stale, Channel.SLACK)
        # and the other tenant's Slack is still off, its escalation without a delivery
        assert EscalationPolicy.objects.get(tenant=other_tenant).slack_disabled_at is not None
        assert _no_delivery(theirs, Channel.SLACK)
        # when: the button is pressed again (a second tab)
        with capture(execute=True):
            again = client.post("/console/inbox/notifications/slack/enable/", follow=True)
        # then: nothing more is sent
        assert "raised while it was off" not in again.content.decode()
        assert len(sink.received) == 5 and NotificationDelivery.objects.filter(escalation=first).count() == 1


def test_switching_the_webhook_back_on_in_the_inbox_resends_what_failed_while_it_was_off_once(
    tenant: Tenant, other_tenant: Tenant, owner: User, django_capture_on_commit_callbacks: Capture
) -> None:
    capture = django_capture_on_commit_callbacks
    with http_sink([410, 410], error_body=b"hook deleted") as sink:
        # given: an escalation whose webhook failed for another reason before the receiver went
        _policy(tenant, Channel.WEBHOOK, sink)
        earlier = _raise(tenant, capture, execute=False)
        NotificationDelivery.objects.filter(escalation=earlier).update(
            status=DeliveryStatus.FAILED, updated_at=timezone.now() - timedelta(minutes=5)
        )
        # and two escalations queued together: the first's 410 switches the webhook off, the second then fails
        # unsent; and one that failed while off, resolved since
        gone = _raise(tenant, capture, execute=False)
        queued = _raise(tenant, capture, execute=False)
        deliver(_delivery(gone).pk)
        deliver(_delivery(queued).pk)
        resolved = _raise(tenant, capture)
        _failed_row(resolved, Channel.WEBHOOK)
        Escalation.objects.filter(pk=resolved.pk).update(status=Status.RESOLVED, resolved_at=timezone.now())
        # and another tenant on the same address, switched off by its own 410
        _policy(other_tenant, Channel.WEBHOOK, sink)
        theirs = _raise(other_tenant, capture)
        assert _escalations_received(sink) == sorted([gone.pk, theirs.pk])
        client = logged_in(owner)
        # when: the owner switches the webhook back on in the inbox, the address unchanged (the receiver fixed)
        with capture(execute=True):
            response = client.post("/console/inbox/notifications/webhook/enable/", follow=True)
        # then: it got each open escalation that failed while it was off, once, and the inbox says so
        page = response.content.decode()
        assert "Webhook notifications are back on. 2 notifications that failed while it was off were queued" in page
        assert _escalations_received(sink) == sorted([gone.pk, gone.pk, queued.pk, theirs.pk])
        assert _delivery(gone).status == _delivery(queued).status == DeliveryStatus.SENT
        # and the earlier failure and the resolved escalation stay failed, unsent
        for escalation in (earlier, resolved):
            assert {d.status for d in escalation.deliveries.all()} == {DeliveryStatus.FAILED}
        # and the other tenant's webhook is still off, its delivery failed
        assert EscalationPolicy.objects.get(tenant=other_tenant).webhook_disabled_at is not None
        assert _delivery(theirs).status == DeliveryStatus.FAILED
        # when: the button is pressed again (a second tab)
        with capture(execute=True):
            again = client.post("/console/inbox/notifications/webhook/enable/", follow=True)
        # then: nothing more is sent
        assert "back on" not in again.content.decode() and len(sink.received) == 4


def test_an_address_follow_up_made_while_the_webhook_was_off_reaches_it_once_it_is_back_on(
    tenant: Tenant, other_tenant: Tenant, owner: User, settings: Any, django_capture_on_commit_callbacks: Capture
) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    capture = django_capture_on_commit_callbacks
    with http_sink([200, 410, 410], error_body=b"hook deleted") as sink:
        # given: an out-of-hours ticket without the customer's address, told to the webhook, and the webhook then
        # switched off by the next escalation's 410, here and for another tenant on the same address
        for each in (tenant, other_tenant):
            each.escalation_email = f"team@{each.slug}.example"
            each.save()
            set_hours(each, NEVER, notify_email=False, webhook_url=sink.url, webhook_secret="s3cret")
        ticket = _raise(tenant, capture)
        gone = _raise(tenant, capture)
        theirs = _raise(other_tenant, capture)
        assert _escalations_received(sink) == sorted([ticket.pk, gone.pk, theirs.pk])
        assert EscalationPolicy.objects.get(tenant=tenant).webhook_disabled_at is not None
        # and the customer's address arriving while the webhook is off (here and for the other tenant)
        for escalation in (ticket, theirs):
            with capture(execute=True):
                contact_email_capture(
                    tenant=escalation.tenant, conversation_id=escalation.conversation_id, text="dana@example.org"
                )
        # when: the owner switches the webhook back on in the inbox
        with capture(execute=True):
            response = logged_in(owner).post("/console/inbox/notifications/webhook/enable/", follow=True)
        # then: the webhook got the follow-up with the address, and the 410's notification, once each
        assert "2 notifications that failed while it was off were queued again" in response.content.decode()
        bodies = [json.loads(request.body) for request in sink.received[3:]]
        assert sorted((body["escalation_id"], body["event"]) for body in bodies) == sorted(
            [(ticket.pk, "escalation.updated"), (gone.pk, "escalation.created")]
        )
        (update,) = (body for body in bodies if body["event"] == "escalation.updated")
        assert update["contact_email"] == "dana@example.org"
        # and the other tenant's webhook, still off, was sent nothing more
        assert EscalationPolicy.objects.get(tenant=other_tenant).webhook_disabled_at is not None
        assert {d.status for d in theirs.deliveries.filter(channel=Channel.WEBHOOK)} == {DeliveryStatus.FAILED}


def test_a_webhook_address_cleared_while_off_stays_off_until_a_new_one_gets_what_failed(
    tenant: Tenant, other_tenant: Tenant, owner: User, settings: Any, django_capture_on_commit_callbacks: Capture
) -> None:
    settings.DEBUG = True  # the admin takes the sinks' http:// addresses
    capture = django_capture_on_commit_callbacks
    with http_sink([410, 410], error_body=b"hook deleted") as old, http_sink([]) as new:
        # given: a webhook switched off by the 410 of an escalation's notification, here and for another tenant
        policy = _policy(tenant, Channel.WEBHOOK, old)
        gone = _raise(tenant, capture)
        _policy(other_tenant, Channel.WEBHOOK, old)
        theirs = _raise(other_tenant, capture)
        client = logged_in(owner)
        # when: an owner clears the dead address (and the secrets)
        cleared = {**FIELDS, "webhook_secret": "", "clear_secrets": "on"}
        with capture(execute=True):
            response = client.post(change_url(policy), policy_form(tenant, **cleared), follow=True)
        # then: there is nothing to switch on: it stays off, and nothing is queued again
        assert "back on" not in response.content.decode()
        policy.refresh_from_db()
        assert policy.webhook_url == "" and policy.disabled_at(Channel.WEBHOOK) is not None
        assert _delivery(gone).status == DeliveryStatus.FAILED and "410 Gone" in _delivery(gone).last_error
        # when: a new address is entered later
        with capture(execute=True):
            response = client.post(change_url(policy), policy_form(tenant, webhook_url=new.url, **FIELDS), follow=True)
        # then: it is back on, and the new address got what failed while it was off, once
        page = response.content.decode()
        assert "Webhook notifications are back on: its address changed." in page
        assert "1 notification that failed while it was off was queued again" in page
        assert _escalations_received(new) == [gone.pk] and _delivery(gone).status == DeliveryStatus.SENT
    # and the other tenant's webhook is still off, its delivery failed
    assert EscalationPolicy.objects.get(tenant=other_tenant).webhook_disabled_at is not None
    assert _delivery(theirs).status == DeliveryStatus.FAILED


def test_the_inbox_does_not_switch_on_a_receiver_whose_address_was_cleared(
    tenant: Tenant, other_tenant: Tenant, owner: User, settings: Any, django_capture_on_commit_callbacks: Capture
) -> None:
    settings.DEBUG = True  # the admin takes the sinks' http:// addresses
    capture = django_capture_on_commit_callbacks
    with http_sink([410, 410], error_body=b"hook deleted") as old, http_sink([]) as new:
        # given: a webhook switched off by a 410, here and for another tenant, and its address cleared since
        policy = _policy(tenant, Channel.WEBHOOK, old)
        gone = _raise(tenant, capture)
        _policy(other_tenant, Channel.WEBHOOK, old)
        theirs = _raise(other_tenant, capture)
        EscalationPolicy.objects.filter(pk=policy.pk).update(webhook_url="")
        client = logged_in(owner)
        # when: an owner presses the inbox's button
        with capture(execute=True):
            response = client.post("/console/inbox/notifications/webhook/enable/", follow=True)
        # then: the inbox says to enter an address; the webhook stays off and nothing is queued again
        page = response.content.decode()
        assert NO_RECEIVER.format(label="Webhook") in page and "notifications are back on" not in page
        assert EscalationPolicy.objects.get(tenant=tenant).webhook_disabled_at is not None
        assert _delivery(gone).status == DeliveryStatus.FAILED and "410 Gone" in _delivery(gone).last_error
        # when: a new address is entered in the policy admin
        with capture(execute=True):
            response = client.post(change_url(policy), policy_form(tenant, webhook_url=new.url, **FIELDS), follow=True)
        # then: the new address got what failed while it was off
        assert "1 notification that failed while it was off was queued again" in response.content.decode()
        assert _escalations_received(new) == [gone.pk]
    # and the other tenant's webhook is still off, its delivery failed
    assert EscalationPolicy.objects.get(tenant=other_tenant).webhook_disabled_at is not None
    assert _delivery(theirs).status == DeliveryStatus.FAILED
