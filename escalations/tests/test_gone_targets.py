"""A Slack or webhook receiver answering 410 Gone is switched off: no more deliveries to it, one warning,
and the inbox says so (when, why) with a button for owners and admins to switch it back on."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client

from escalations.models import Channel, DeliveryStatus, EscalationPolicy, NotificationDelivery
from escalations.notifications.dispatch import deliver
from escalations.notifications.gone import receiver_switch_off
from escalations.services import escalation_raise
from escalations.tasks import deliver_notification
from escalations.tests.admin_forms import policy_form
from escalations.tests.conftest import ALWAYS, set_hours
from escalations.tests.factories import ConversationFactory, EscalationFactory, MessageFactory
from escalations.tests.http_sink import Sink, http_sink
from escalations.tests.test_admin_notifications import change_url
from escalations.triggers import ReasonCode, TriggerHit
from supportai.models import Tenant

pytestmark = pytest.mark.django_db
Capture = Callable[..., Any]
HUMAN = TriggerHit(ReasonCode.HUMAN_REQUEST, "talk to a human")
TARGETS = {Channel.SLACK: "slack_webhook_url", Channel.WEBHOOK: "webhook_url"}


def _raise(tenant: Tenant, capture: Capture, *, execute: bool = True) -> list[NotificationDelivery]:
    conversation = ConversationFactory.create(tenant=tenant)
    MessageFactory.create(conversation=conversation, text="help")
    with capture(execute=execute):
        raised = escalation_raise(tenant=tenant, conversation_id=conversation.pk, hits=[HUMAN])
    return list(NotificationDelivery.objects.filter(escalation=raised.escalation))


def _policy(tenant: Tenant, channel: Channel, sink: Sink) -> EscalationPolicy:
    return set_hours(tenant, ALWAYS, notify_email=False, webhook_secret="s3cret", **{TARGETS[channel]: sink.url})


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    ours = [record for record in caplog.records if record.name.startswith("escalations")]
    return [record.getMessage() for record in ours if record.levelno >= logging.WARNING]


def _logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("channel", [Channel.SLACK, Channel.WEBHOOK])
def test_a_receiver_answering_410_is_switched_off_and_sent_nothing_more(
    tenant: Tenant, django_capture_on_commit_callbacks: Capture, caplog: pytest.LogCaptureFixture, channel: Channel
) -> None:
    # given a receiver that is gone
    with http_sink([410, 410, 410], error_body=b"channel_is_archived") as sink:
        _policy(tenant, channel, sink)
        # when an escalation is announced to it, then another
        (first,) = _raise(tenant, django_capture_on_commit_callbacks)
        second = _raise(tenant, django_capture_on_commit_callbacks)
    # then the first delivery failed at once, the channel is off with when and why, and the second
    # escalation sends it nothing: one request in all, and one warning
    assert (first.channel, first.status, first.attempts) == (channel, DeliveryStatus.FAILED, 1)
    assert "410" in first.last_error
    policy = EscalationPolicy.objects.get(tenant=tenant)
    assert policy.disabled_at(channel) is not None
    assert "410 Gone" in policy.disabled_reason(channel) and "channel_is_archived" in policy.disabled_reason(channel)
    assert second == [] and len(sink.received) == 1
    [warning] = _warnings(caplog)
    assert f"{channel} notifications of tenant {tenant.pk} switched off" in warning and "410" in warning


def test_a_delivery_queued_before_the_410_is_not_sent(
    tenant: Tenant, other_tenant: Tenant, django_capture_on_commit_callbacks: Capture
) -> None:
    # given two escalations queued for a Slack that is gone, and another tenant's Slack on the same address
    with http_sink([410], error_body=b"no_active_hooks") as sink:
        _policy(tenant, Channel.SLACK, sink)
        _policy(other_tenant, Channel.SLACK, sink)
        (first,) = _raise(tenant, django_capture_on_commit_callbacks, execute=False)
        (queued,) = _raise(tenant, django_capture_on_commit_callbacks, execute=False)
        # when the first answers 410 and the second's turn comes
        deliver(first.pk)
        deliver(queued.pk)
        # then the second fails without a request, saying why; the other tenant's Slack is still on
        queued.refresh_from_db()
        assert (queued.status, queued.attempts) == (DeliveryStatus.FAILED, 0)
        assert "switched off" in queued.last_error and "410" in queued.last_error
        assert len(sink.received) == 1
        (theirs,) = _raise(other_tenant, django_capture_on_commit_callbacks)
        assert theirs.status == DeliveryStatus.SENT and len(sink.received) == 2
    assert EscalationPolicy.objects.get(tenant=other_tenant).disabled_at(Channel.SLACK) is None


def test_a_410_from_an_address_staff_changed_meanwhile_leaves_the_new_one_on(tenant: Tenant) -> None:
    # given a Slack address staff replaced while a delivery to the old one was under way
    set_hours(tenant, ALWAYS, slack_webhook_url="https://hooks.slack.com/services/T/B/new")
    # when the old one's 410 comes back
    switched = receiver_switch_off(
        tenant=tenant, channel=Channel.SLACK, url="https://hooks.slack.com/services/T/B/old", reason="410 Gone"
    )
    # then the new one stays on
    assert not switched and EscalationPolicy.objects.get(tenant=tenant).disabled_at(Channel.SLACK) is None


@pytest.mark.parametrize("status", [400, 403, 404])
def test_other_client_errors_fail_the_delivery_but_leave_the_receiver_on(
    tenant: Tenant, django_capture_on_commit_callbacks: Capture, status: int
) -> None:
    with http_sink([status]) as sink:
        _policy(tenant, Channel.WEBHOOK, sink)
        (failed,) = _raise(tenant, django_capture_on_commit_callbacks)
        (sent,) = _raise(tenant, django_capture_on_commit_callbacks)
    assert (failed.status, sent.status) == (DeliveryStatus.FAILED, DeliveryStatus.SENT)
    assert EscalationPolicy.objects.get(tenant=tenant).disabled_at(Channel.WEBHOOK) is None


def test_the_inbox_shows_a_switched_off_receiver_and_an_owner_switches_it_back_on(
    tenant: Tenant, owner: User, agent: User, django_capture_on_commit_callbacks: Capture
) -> None:
    # given a Slack switched off by a 410
    with http_sink([410], error_body=b"channel_is_archived") as sink:
        _policy(tenant, Channel.SLACK, sink)
        _raise(tenant, django_capture_on_commit_callbacks)
        disabled_at = EscalationPolicy.objects.get(tenant=tenant).disabled_at(Channel.SLACK)
        assert disabled_at is not None
        # when staff open the inbox
        agent_page = _logged_in(agent).get("/console/inbox/").content.decode()
        owner_page = _logged_in(owner).get("/console/inbox/").content.decode()
        # then both read when and why; only the owner gets the button
        assert "Slack notifications are switched off since" in agent_page
        assert disabled_at.strftime("%Y-%m-%d %H:%M") in agent_page and "channel_is_archived" in agent_page
        assert 'action="/console/inbox/notifications/slack/enable/"' in owner_page
        assert 'action="/console/inbox/notifications/slack/enable/"' not in agent_page
        # when the owner switches it back on
        response = _logged_in(owner).post("/console/inbox/notifications/slack/enable/")
        # then the inbox no longer says it is off and the next escalation reaches Slack
        assert response.status_code == 302 and response["Location"] == "/console/inbox/"
        assert "switched off" not in _logged_in(owner).get("/console/inbox/").content.decode()
        (delivery,) = _raise(tenant, django_capture_on_commit_callbacks)
        assert delivery.status == DeliveryStatus.SENT
        assert json.loads(sink.received[-1].body)["text"].startswith("*Alpha Clinic*")


def test_only_an_owner_or_admin_of_the_tenant_switches_a_receiver_back_on(
    tenant: Tenant, agent: User, outsider: User, django_capture_on_commit_callbacks: Capture
) -> None:
    # given the tenant's webhook switched off by a 410
    with http_sink([410]) as sink:
        _policy(tenant, Channel.WEBHOOK, sink)
        _raise(tenant, django_capture_on_commit_callbacks)
    # when an agent of the tenant, and another tenant's owner, try to switch it back on
    assert _logged_in(agent).post("/console/inbox/notifications/webhook/enable/").status_code == 403
    _logged_in(outsider).post("/console/inbox/notifications/webhook/enable/")
    # then it stays off; a channel that cannot be switched off is not found
    assert EscalationPolicy.objects.get(tenant=tenant).disabled_at(Channel.WEBHOOK) is not None
    for channel in ("email", "ticket", "nope"):
        assert _logged_in(outsider).post(f"/console/inbox/notifications/{channel}/enable/").status_code == 404
    assert Client().post("/console/inbox/notifications/webhook/enable/").status_code == 302  # to the login


def test_the_policy_admin_shows_a_switched_off_receiver_and_saving_keeps_it_off(
    tenant: Tenant, owner: User, settings: Any, django_capture_on_commit_callbacks: Capture
) -> None:
    # given a webhook switched off by a 410
    settings.DEBUG = True  # the admin takes the sink's http:// address
    with http_sink([410], error_body=b"hook deleted") as sink:
        policy = _policy(tenant, Channel.WEBHOOK, sink)
        _raise(tenant, django_capture_on_commit_callbacks)
    client = _logged_in(owner)
    # when an owner opens the policy in admin, and saves it
    page = client.get(change_url(policy)).content.decode()
    form = policy_form(tenant, webhook_url=sink.url, team_name="night team")
    assert client.post(change_url(policy), form).status_code == 302
    # then the page said why, and the save changed the policy but left the webhook off
    assert "webhook answered 410 Gone: hook deleted" in page
    policy.refresh_from_db()
    assert policy.team_name == "night team" and policy.disabled_at(Channel.WEBHOOK) is not None


@pytest.mark.django_db(transaction=True)  # staff's change commits on its own connection during the delivery
@pytest.mark.parametrize("channel", [Channel.SLACK, Channel.WEBHOOK])
def test_a_410_from_an_address_replaced_during_the_delivery_sends_it_to_the_new_one(
    tenant: Tenant, other_tenant: Tenant, caplog: pytest.LogCaptureFixture, channel: Channel
) -> None:
    # given a delivery under way, staff replacing the address while the old one answers 410, and another
    # tenant on the old address
    escalation = EscalationFactory.create(conversation__tenant=tenant)
    delivery = NotificationDelivery.objects.create(tenant=tenant, escalation=escalation, channel=channel)
    with http_sink([410], error_body=b"no_service") as old, http_sink([]) as new:
        _policy(tenant, channel, old)
        _policy(other_tenant, channel, old)

        def staff_replace_the_address() -> None:
            EscalationPolicy.objects.filter(tenant=tenant).update(**{TARGETS[channel]: new.url})
            connection.close()  # the server thread's own connection

        old.on_request = staff_replace_the_address
        # when the delivery's task runs
        deliver_notification.apply(args=(delivery.pk,))
    # then the notification went to the new address, counted as its one attempt, and nothing is switched
    # off, here or for the other tenant; nothing is logged as an error
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == (DeliveryStatus.SENT, 1, "")
    assert len(old.received) == 1 and len(new.received) == 1
    assert f"{escalation.pk}".encode() in new.received[0].body
    for policy in EscalationPolicy.objects.filter(tenant__in=[tenant, other_tenant]):
        assert policy.disabled_at(channel) is None
    assert not [r for r in caplog.records if r.name.startswith("escalations") and r.levelno >= logging.ERROR]


@pytest.mark.parametrize("channel", [Channel.SLACK, Channel.WEBHOOK])
def test_a_410_from_the_current_address_after_a_replaced_one_still_switches_it_off(
    tenant: Tenant, django_capture_on_commit_callbacks: Capture, channel: Channel
) -> None:
    # given a receiver whose address is the policy's own
    with http_sink([410, 410]) as sink:
        _policy(tenant, channel, sink)
        # when it answers 410
        (delivery,) = _raise(tenant, django_capture_on_commit_callbacks)
    # then the channel is off and the delivery failed after one request, not sent again
    assert (delivery.status, delivery.attempts, len(sink.received)) == (DeliveryStatus.FAILED, 1, 1)
    assert EscalationPolicy.objects.get(tenant=tenant).disabled_at(channel) is not None


def test_a_new_address_entered_in_admin_switches_a_receiver_back_on(
    tenant: Tenant, other_tenant: Tenant, owner: User, settings: Any, django_capture_on_commit_callbacks: Capture
) -> None:
    # given the tenant's and another tenant's webhook switched off by the old address's 410
    settings.DEBUG = True  # the admin takes the sinks' http:// addresses
    with http_sink([410, 410], error_body=b"hook deleted") as old, http_sink([]) as new:
        policy = _policy(tenant, Channel.WEBHOOK, old)
        _policy(other_tenant, Channel.WEBHOOK, old)
        _raise(tenant, django_capture_on_commit_callbacks)
        _raise(other_tenant, django_capture_on_commit_callbacks)
        client = _logged_in(owner)
        # when an owner saves the policy with the same address, then with a new one
        fields = {"webhook_secret": "s3cret", "notify_email": "", "weekly_hours": json.dumps(ALWAYS)}
        same = policy_form(tenant, webhook_url=old.url, **fields)
        assert client.post(change_url(policy), same).status_code == 302
        assert EscalationPolicy.objects.get(tenant=tenant).disabled_at(Channel.WEBHOOK) is not None
        replaced = policy_form(tenant, webhook_url=new.url, **fields)
        response = client.post(change_url(policy), replaced, follow=True)
        # then the new address is on, says so, and the next escalation reaches it; the other tenant's stays off
        assert "Webhook notifications are back on: its address changed." in response.content.decode()
        assert EscalationPolicy.objects.get(tenant=tenant).disabled_at(Channel.WEBHOOK) is None
        (delivery,) = _raise(tenant, django_capture_on_commit_callbacks)
        assert delivery.status == DeliveryStatus.SENT and len(new.received) == 1
    assert EscalationPolicy.objects.get(tenant=other_tenant).disabled_at(Channel.WEBHOOK) is not None
