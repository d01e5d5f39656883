"""The policy admin writes only what its form changed, decided under the policy's lock against the row as it
is now: a receiver's 410 that lands while a save is under way stays (the save does not write the old "on"
back), and of two saves of the same new address at once only the first switches the receiver back on and
re-sends what failed while it was off. The interleaving is made deterministic by doing the other party's
work while the admin's form is being validated (after the policy was read, before it is saved)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import User

from escalations.admin import POLICY_DELETED, EscalationPolicyForm
from escalations.models import Channel, DeliveryStatus, EscalationPolicy, NotificationDelivery
from escalations.notifications.gone import receiver_switch_off
from escalations.services import escalation_raise
from escalations.tests.admin_forms import logged_in, policy_form
from escalations.tests.conftest import ALWAYS, set_hours
from escalations.tests.factories import ConversationFactory, MessageFactory
from escalations.tests.http_sink import http_sink
from escalations.tests.test_admin_notifications import change_url
from escalations.tests.threads import committed_elsewhere
from escalations.triggers import ReasonCode, TriggerHit
from supportai.models import Tenant

pytestmark = pytest.mark.django_db
Capture = Callable[..., Any]
HUMAN = TriggerHit(ReasonCode.HUMAN_REQUEST, "talk to a human")
FIELDS = {"webhook_secret": "", "notify_email": "", "weekly_hours": json.dumps(ALWAYS)}


def _while_the_form_is_validated(monkeypatch: pytest.MonkeyPatch, meanwhile: Callable[[], object]) -> None:
    """Run ``meanwhile`` once, during the next policy form's validation: the admin has read the policy."""
    clean = EscalationPolicyForm.clean
    pending: list[Callable[[], object]] = [meanwhile]

    def clean_then_meanwhile(form: EscalationPolicyForm) -> dict[str, Any]:
        cleaned = clean(form)
        while pending:
            pending.pop()()
        return cleaned

    monkeypatch.setattr(EscalationPolicyForm, "clean", clean_then_meanwhile)


def _raise(tenant: Tenant, capture: Capture) -> None:
    conversation = ConversationFactory.create(tenant=tenant)
    MessageFactory.create(conversation=conversation, text="help")
    with capture(execute=True):
        escalation_raise(tenant=tenant, conversation_id=conversation.pk, hits=[HUMAN])


def test_a_410_during_an_admin_save_keeps_the_receiver_off(
    tenant: Tenant, other_tenant: Tenant, owner: User, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.DEBUG = True  # the admin takes the http:// address
    # given: a webhook that is on, here and for another tenant on the same address
    url = "http://hooks.example.com/ours"
    policy = set_hours(tenant, ALWAYS, notify_email=False, webhook_url=url, webhook_secret="s3cret")
    set_hours(other_tenant, ALWAYS, notify_email=False, webhook_url=url, webhook_secret="s3cret")
    # and its receiver answering 410 after the admin read the policy, before it saves it
    _while_the_form_is_validated(
        monkeypatch,
        lambda: receiver_switch_off(tenant=tenant, channel=Channel.WEBHOOK, url=url, reason="410 Gone: hook deleted"),
    )
    # when: an owner saves the policy with another team name and the same address
    form = policy_form(tenant, webhook_url=url, team_name="night team", **FIELDS)
    assert logged_in(owner).post(change_url(policy), form).status_code == 302
    # then: the team name changed and the webhook stays switched off, with the 410's reason
    policy.refresh_from_db()
    assert policy.team_name == "night team" and policy.webhook_url == url and policy.webhook_secret == "s3cret"
    assert policy.disabled_at(Channel.WEBHOOK) is not None
    assert policy.disabled_reason(Channel.WEBHOOK) == "410 Gone: hook deleted"
    # and the other tenant's webhook is untouched, still on
    theirs = EscalationPolicy.objects.get(tenant=other_tenant)
    assert theirs.disabled_at(Channel.WEBHOOK) is None and theirs.team_name != "night team"


def test_an_admin_save_keeps_what_another_wrote_meanwhile(
    tenant: Tenant, owner: User, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.DEBUG = True
    # given: a policy, and someone else changing its SLA and email setting while the admin's save is under way
    url = "http://hooks.example.com/ours"
    policy = set_hours(tenant, ALWAYS, notify_email=False, webhook_url=url, webhook_secret="s3cret")
    _while_the_form_is_validated(
        monkeypatch,
        lambda: EscalationPolicy.objects.filter(pk=policy.pk).update(sla_minutes_low=999, notify_email=True),
    )
    # when: the owner saves another team name (the form carries the SLA and email setting it was shown)
    form = policy_form(tenant, webhook_url=url, team_name="night team", sla_minutes_low=240, **FIELDS)
    assert logged_in(owner).post(change_url(policy), form).status_code == 302
    # then: only the team name was written
    policy.refresh_from_db()
    assert (policy.team_name, policy.sla_minutes_low, policy.notify_email) == ("night team", 999, True)


@pytest.mark.django_db(transaction=True)  # the deletion commits on its own connection
def test_a_policy_deleted_while_its_admin_form_is_saved_is_said_so(
    tenant: Tenant,
    other_tenant: Tenant,
    owner: User,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings.DEBUG = True
    # given: a policy, here and for another tenant, and someone deleting ours while the admin's save is under way
    url = "http://hooks.example.com/ours"
    policy = set_hours(tenant, ALWAYS, notify_email=False, webhook_url=url, webhook_secret="s3cret")
    set_hours(other_tenant, ALWAYS, notify_email=False, webhook_url=url, webhook_secret="s3cret")
    _while_the_form_is_validated(
        monkeypatch, lambda: committed_elsewhere(EscalationPolicy.objects.filter(pk=policy.pk).delete)
    )
    # when: the owner saves another team name
    form = policy_form(tenant, webhook_url=url, team_name="night team", **FIELDS)
    response = logged_in(owner).post(change_url(policy), form, follow=True)
    # then: the policy list says the policy was deleted meanwhile, without an error or a change recorded
    assert response.status_code == 200
    assert response.redirect_chain == [("/admin/escalations/escalationpolicy/", 302)]
    assert POLICY_DELETED in response.content.decode()
    assert not EscalationPolicy.objects.filter(tenant=tenant).exists() and not LogEntry.objects.exists()
    assert not [record for record in caplog.records if record.levelname in ("ERROR", "CRITICAL")]
    # and the other tenant's policy is untouched
    assert EscalationPolicy.objects.get(tenant=other_tenant).team_name != "night team"


def test_two_admin_saves_of_a_new_address_at_once_switch_it_on_and_resend_once(
    tenant: Tenant,
    other_tenant: Tenant,
    owner: User,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    settings.DEBUG = True  # the admin takes the sinks' http:// addresses
    capture = django_capture_on_commit_callbacks
    with http_sink([410, 410], error_body=b"hook deleted") as old, http_sink([]) as new:
        # given: a webhook switched off by the 410 of an escalation's notification, here and for another tenant
        policy = set_hours(tenant, ALWAYS, notify_email=False, webhook_url=old.url, webhook_secret="s3cret")
        set_hours(other_tenant, ALWAYS, notify_email=False, webhook_url=old.url, webhook_secret="s3cret")
        _raise(tenant, capture)
        _raise(other_tenant, capture)
        assert EscalationPolicy.objects.get(tenant=tenant).disabled_at(Channel.WEBHOOK) is not None
        form = policy_form(tenant, webhook_url=new.url, **FIELDS)
        second: list[str] = []

        def another_owner_saves_the_same_address() -> None:
            second.append(logged_in(owner).post(change_url(policy), form, follow=True).content.decode())

        # when: two owners save the same new address at once (the second's save runs while the first's form is
        # being validated: the first read the policy while it was still off)
        _while_the_form_is_validated(monkeypatch, another_owner_saves_the_same_address)
        with capture(execute=True):
            first = logged_in(owner).post(change_url(policy), form, follow=True).content.decode()
        # then: it was switched back on once, and the failed notification went once to the new address
        pages = [first, *second]
        assert sum("Webhook notifications are back on" in page for page in pages) == 1
        assert sum("1 notification that failed while it was off was queued again" in page for page in pages) == 1
        assert len(new.received) == 1
        assert NotificationDelivery.objects.get(tenant=tenant).status == DeliveryStatus.SENT
        # and it stays on, at the new address
        policy.refresh_from_db()
        assert policy.webhook_url == new.url and policy.disabled_at(Channel.WEBHOOK) is None
    # and the other tenant's webhook is still off, its delivery failed
    assert EscalationPolicy.objects.get(tenant=other_tenant).disabled_at(Channel.WEBHOOK) is not None
    assert NotificationDelivery.objects.get(tenant=other_tenant).status == DeliveryStatus.FAILED
