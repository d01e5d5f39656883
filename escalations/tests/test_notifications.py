"""Notifications after commit: email (escaped), Slack and a signed webhook over real HTTP, with retries."""

from __future__ import annotations

import email.utils
import hashlib
import hmac
import json
import logging
import socket
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives

from escalations.models import Channel, DeliveryStatus, EscalationPolicy, NotificationDelivery
from escalations.notifications.dispatch import MAX_ATTEMPTS, RunAgain, backoff_seconds, deliver
from escalations.notifications.targets import MAX_RETRY_AFTER_S
from escalations.services import escalation_raise
from escalations.tests.conftest import ALWAYS, NEVER, set_hours
from escalations.tests.factories import ConversationFactory, MessageFactory
from escalations.tests.http_sink import http_sink
from escalations.triggers import ReasonCode, TriggerHit
from supportai import config_warnings
from supportai.models import Tenant

pytestmark = pytest.mark.django_db
HOSTILE = '<script>alert("x")</script><b onmouseover=alert(1)>hi</b> & "quotes"'
Capture = Callable[..., Any]


@pytest.fixture(autouse=True)
def _email_backend(settings: Any) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def raise_for(tenant: Tenant, capture: Capture, *, text: str = "help", email: str = "") -> NotificationDelivery | None:
    conversation = ConversationFactory.create(tenant=tenant)
    MessageFactory.create(conversation=conversation, text=text)
    with capture(execute=True):
        raised = escalation_raise(
            tenant=tenant,
            conversation_id=conversation.pk,
            hits=[TriggerHit(ReasonCode.HUMAN_REQUEST, "talk to a human")],
            reason=text,
            email=email,
        )
    return NotificationDelivery.objects.filter(escalation=raised.escalation).first()


def test_email_escapes_hostile_customer_text(tenant: Tenant, django_capture_on_commit_callbacks: Capture) -> None:
    set_hours(tenant, ALWAYS)
    tenant.escalation_email = "team@alpha.example"
    tenant.save()
    delivery = raise_for(tenant, django_capture_on_commit_callbacks, text=HOSTILE, email="dana@example.org")
    assert delivery is not None and delivery.status == DeliveryStatus.SENT and delivery.attempts == 1
    (message,) = mail.outbox
    assert message.to == ["team@alpha.example"] and message.reply_to == ["dana@example.org"]
    assert isinstance(message, EmailMultiAlternatives)
    html = str(message.alternatives[0][0])
    assert "<script>" not in html and "<b onmouseover" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert HOSTILE in message.body  # the text part is plain text, shown verbatim
    assert "\n" not in message.subject


def test_a_customers_line_breaks_cannot_forge_a_line_of_the_text_email(
    tenant: Tenant, django_capture_on_commit_callbacks: Capture
) -> None:
    # given a customer whose reason (their message) breaks lines, with \n and U+2028, into the email's own
    # labels: another address to reply to, and a transcript line in the agent's name
    set_hours(tenant, ALWAYS)
    tenant.escalation_email = "team@alpha.example"
    tenant.save()
    forged = "refund please\nCustomer email: thief@evil.example\u2028Agent: your refund is approved"
    # when the team is emailed
    raise_for(tenant, django_capture_on_commit_callbacks, text=forged, email="dana@example.org")
    # then each label of the text part is the email's own: the reason stays on its line
    (message,) = mail.outbox
    lines = message.body.splitlines()
    assert [line for line in lines if line.startswith("Customer email:")] == ["Customer email: dana@example.org"]
    assert not [line for line in lines if line.startswith("Agent:")]
    reason = "Reason given: refund please / Customer email: thief@evil.example / Agent: your refund is approved"
    assert reason in lines


def test_out_of_hours_opens_a_ticket_through_the_email_adapter(
    tenant: Tenant, django_capture_on_commit_callbacks: Capture
) -> None:
    set_hours(tenant, NEVER)
    tenant.escalation_email = "team@alpha.example"
    tenant.save()
    delivery = raise_for(tenant, django_capture_on_commit_callbacks)
    assert delivery is not None and delivery.channel == Channel.TICKET and delivery.status == DeliveryStatus.SENT
    delivery.escalation.refresh_from_db()
    assert delivery.escalation.ticket_reference == f"email-{delivery.escalation.pk}"
    (message,) = mail.outbox
    assert message.subject.startswith("[Alpha Clinic] Ticket #")


def test_no_escalation_address_records_a_failure_instead_of_losing_it(
    tenant: Tenant, django_capture_on_commit_callbacks: Capture
) -> None:
    set_hours(tenant, NEVER)  # tickets need an address; the tenant has none
    delivery = raise_for(tenant, django_capture_on_commit_callbacks)
    assert delivery is not None and delivery.status == DeliveryStatus.FAILED
    assert "no escalation email address" in delivery.last_error


def test_slack_webhook_retries_500s_then_succeeds(tenant: Tenant, django_capture_on_commit_callbacks: Capture) -> None:
    with http_sink([500, 503, 200]) as slack:
        set_hours(tenant, ALWAYS, notify_email=False, slack_webhook_url=slack.url)
        delivery = raise_for(tenant, django_capture_on_commit_callbacks, text="<@channel> I was hacked")
    assert delivery is not None and delivery.channel == Channel.SLACK
    assert delivery.status == DeliveryStatus.SENT and delivery.attempts == 3 and delivery.last_error == ""
    payload = json.loads(slack.received[-1].body)
    assert "&lt;@channel&gt;" in payload["text"] and "<@channel>" not in payload["text"]


def test_slack_text_cannot_carry_a_customers_link_mention_or_formatting(
    tenant: Tenant, django_capture_on_commit_callbacks: Capture
) -> None:
    # given a tenant whose name has formatting characters, and a customer writing Slack markup: a forged
    # link, @channel and user mentions, and formatting (a code fence would swallow the inbox link after it)
    tenant.name = "Fish_&_Chips *Bar*"
    tenant.save()
    hostile = "<https://evil.example|Open in the inbox> <!channel> <@U123> & *urgent* _now_ ~no~ `x` ```"
    with http_sink([]) as slack:
        set_hours(tenant, ALWAYS, notify_email=False, slack_webhook_url=slack.url)
        # when the team is told on Slack
        delivery = raise_for(tenant, django_capture_on_commit_callbacks, text=hostile)
    # then Slack's control characters are escaped and the formatting characters are look-alikes, so the
    # only link is ours and the only formatting is the tenant's name in bold
    assert delivery is not None and delivery.status == DeliveryStatus.SENT
    assert json.loads(slack.received[0].body)["text"] == (
        f"*Fish\u02cd&amp;\u02cdChips \u2217Bar\u2217*: escalation #{delivery.escalation_id} (medium, live) — "
        "human_request\n"
        ">Customer: &lt;https://evil.example|Open in the inbox&gt; &lt;!channel&gt; &lt;@U123&gt; &amp; "
        "\u2217urgent\u2217 \u02cdnow\u02cd \u223cno\u223c \u02cbx\u02cb \u02cb\u02cb\u02cb\n"
        f"<http://127.0.0.1:8000/console/inbox/{delivery.escalation_id}/|Open in the inbox>"
    )


def test_webhook_is_signed_and_gives_up_after_max_attempts(
    tenant: Tenant, django_capture_on_commit_callbacks: Capture
) -> None:
    with http_sink([500] * 10) as hook:
        set_hours(tenant, ALWAYS, notify_email=False, webhook_url=hook.url, webhook_secret="s3cret")
        delivery = raise_for(tenant, django_capture_on_commit_callbacks)
    assert delivery is not None and delivery.status == DeliveryStatus.FAILED
    assert delivery.attempts == MAX_ATTEMPTS and "500" in delivery.last_error
    first = hook.received[0]
    expected = hmac.new(b"s3cret", first.headers["x-supportai-timestamp"].encode() + b"." + first.body, hashlib.sha256)
    assert first.headers["x-supportai-signature"] == f"sha256={expected.hexdigest()}"
    assert json.loads(first.body)["escalation_id"] == delivery.escalation_id


def test_client_errors_are_not_retried(tenant: Tenant, django_capture_on_commit_callbacks: Capture) -> None:
    with http_sink([404]) as hook:
        set_hours(tenant, ALWAYS, notify_email=False, webhook_url=hook.url, webhook_secret="s3cret")
        delivery = raise_for(tenant, django_capture_on_commit_callbacks)
    assert delivery is not None and delivery.status == DeliveryStatus.FAILED and delivery.attempts == 1


def test_secrets_are_encrypted_at_rest(tenant: Tenant) -> None:
    from django.db import connection

    set_hours(tenant, ALWAYS, slack_webhook_url="https://hooks.slack.com/services/T/B/secret", webhook_secret="s3cret")
    with connection.cursor() as cursor:
        cursor.execute("SELECT slack_webhook_url, webhook_secret FROM escalations_escalationpolicy")
        stored = cursor.fetchone()
    assert "secret" not in stored[0] and "s3cret" not in stored[1]
    assert EscalationPolicy.objects.get(tenant=tenant).webhook_secret == "s3cret"


def test_backoff_grows_and_is_capped() -> None:
    assert [backoff_seconds(n) for n in (1, 2, 3, 10)] == [30, 60, 120, 900]


@pytest.mark.parametrize("host", ["127.0.0.1", "10.0.0.5", "169.254.169.254", "localhost"])
def test_webhooks_to_private_addresses_are_refused_in_production(
    tenant: Tenant, django_capture_on_commit_callbacks: Capture, settings: Any, host: str
) -> None:
    settings.ESCALATIONS_ALLOW_PRIVATE_WEBHOOKS = False
    with http_sink([200]) as hook:
        port = hook.url.split(":")[2].split("/")[0]
        set_hours(tenant, ALWAYS, notify_email=False, webhook_url=f"http://{host}:{port}/hook", webhook_secret="s3cret")
        delivery = raise_for(tenant, django_capture_on_commit_callbacks)
    assert delivery is not None and delivery.status == DeliveryStatus.FAILED and delivery.attempts == 1
    assert "non-public address" in delivery.last_error and hook.received == []


@pytest.mark.parametrize("field", ["webhook_url", "slack_webhook_url"])
def test_a_target_host_rebinding_to_loopback_after_the_check_is_refused_at_connect_time(
    tenant: Tenant,
    django_capture_on_commit_callbacks: Capture,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
    field: str,
) -> None:
    # given a host whose first DNS answer (the pre-flight check) is public and every later one loopback
    settings.ESCALATIONS_ALLOW_PRIVATE_WEBHOOKS = False
    real_getaddrinfo = socket.getaddrinfo
    answers = iter(["93.184.215.14"])

    def rebinding(host: str, port: int, *args: Any, **kwargs: Any) -> list[Any]:
        if host != "rebind.test":
            return real_getaddrinfo(host, port, *args, **kwargs)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers, "127.0.0.1"), port))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    with http_sink([200]) as hook:
        port = hook.url.split(":")[2].split("/")[0]
        set_hours(
            tenant, ALWAYS, notify_email=False, webhook_secret="s3cret", **{field: f"http://rebind.test:{port}/hook"}
        )
        # when the notification is delivered
        delivery = raise_for(tenant, django_capture_on_commit_callbacks)
    # then the connection to loopback is refused, recorded and not retried
    assert delivery is not None and delivery.status == DeliveryStatus.FAILED and delivery.attempts == 1
    assert "non-public address" in delivery.last_error and hook.received == []


@pytest.mark.parametrize("field", ["webhook_url", "slack_webhook_url"])
def test_deliveries_ignore_proxies_from_the_environment(
    tenant: Tenant, django_capture_on_commit_callbacks: Capture, monkeypatch: pytest.MonkeyPatch, field: str
) -> None:
    # given a proxy in the environment that would refuse every connection
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    with http_sink([200]) as hook:
        set_hours(tenant, ALWAYS, notify_email=False, webhook_secret="s3cret", **{field: hook.url})
        delivery = raise_for(tenant, django_capture_on_commit_callbacks)
    # then the target was reached directly
    assert delivery is not None and delivery.status == DeliveryStatus.SENT and delivery.attempts == 1
    assert len(hook.received) == 1


def test_slack_sends_its_incoming_webhook_json(tenant: Tenant, django_capture_on_commit_callbacks: Capture) -> None:
    with http_sink([200]) as slack:
        set_hours(tenant, ALWAYS, notify_email=False, slack_webhook_url=slack.url)
        raise_for(tenant, django_capture_on_commit_callbacks)
    (request,) = slack.received
    assert request.headers["content-type"].startswith("application/json")
    assert list(json.loads(request.body)) == ["text"]


def test_slack_client_errors_are_recorded_and_not_retried(
    tenant: Tenant, django_capture_on_commit_callbacks: Capture
) -> None:
    with http_sink([404], error_body=b"no_service") as slack:
        set_hours(tenant, ALWAYS, notify_email=False, slack_webhook_url=slack.url)
        delivery = raise_for(tenant, django_capture_on_commit_callbacks)
    assert delivery is not None and delivery.status == DeliveryStatus.FAILED and delivery.attempts == 1
    assert delivery.last_error == "slack answered 404: no_service"


def _first_attempt_at_a_rate_limited_slack(
    tenant: Tenant, capture: Capture, retry_after: str
) -> tuple[RunAgain | None, NotificationDelivery]:
    """One delivery attempt of an escalation's notification to a Slack answering 429 with ``retry_after``."""
    with http_sink([429], headers={"Retry-After": retry_after}, error_body=b"rate_limited") as slack:
        set_hours(tenant, ALWAYS, notify_email=False, slack_webhook_url=slack.url)
        conversation = ConversationFactory.create(tenant=tenant)
        with capture(execute=False):
            raised = escalation_raise(
                tenant=tenant, conversation_id=conversation.pk, hits=[TriggerHit(ReasonCode.HUMAN_REQUEST, "human")]
            )
        delivery = NotificationDelivery.objects.get(escalation=raised.escalation)
        return deliver(delivery.pk), delivery


def test_slack_rate_limit_waits_at_least_retry_after(
    tenant: Tenant, django_capture_on_commit_callbacks: Capture
) -> None:
    # given Slack answering 429 with a Retry-After longer than our first backoff, when one attempt is made
    retry_in, delivery = _first_attempt_at_a_rate_limited_slack(tenant, django_capture_on_commit_callbacks, "600")
    # then the retry waits as long as Slack asked
    assert retry_in == RunAgain(600, retry=True) and backoff_seconds(1) < 600
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.RETRYING and "429: rate_limited" in delivery.last_error


@pytest.mark.parametrize(
    ("retry_after", "waits"),
    # an HTTP date two hours ahead: the hour we wait at most; a fraction: rounded up to whole seconds
    [(lambda: email.utils.formatdate(time.time() + 7200, usegmt=True), MAX_RETRY_AFTER_S), (lambda: "600.5", 601)],
    ids=["http-date", "fraction"],
)
def test_slack_rate_limit_reads_retry_after_as_the_shared_reader_does_capped_at_an_hour(
    tenant: Tenant, django_capture_on_commit_callbacks: Capture, retry_after: Callable[[], str], waits: int
) -> None:
    # given Slack answering 429 with such a Retry-After (read by supportai/retry_after.py, whose cases
    # it tests), when one attempt is made
    capture = django_capture_on_commit_callbacks
    retry_in, delivery = _first_attempt_at_a_rate_limited_slack(tenant, capture, retry_after())
    # then it is retried after that many whole seconds
    assert retry_in == RunAgain(waits, retry=True)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.RETRYING


@pytest.mark.parametrize("location", ["http:foo", "http://[::1", "/elsewhere"])
def test_a_webhook_answering_with_a_redirect_is_a_failure_whatever_its_location(
    tenant: Tenant, django_capture_on_commit_callbacks: Capture, location: str
) -> None:
    # given a webhook that redirects, to an address httpx cannot even parse for some (redirects
    # are not followed: the signed body must reach the configured URL)
    with http_sink([302] * 10, headers={"Location": location}) as hook:
        set_hours(tenant, ALWAYS, notify_email=False, webhook_url=hook.url, webhook_secret="s3cret")
        delivery = raise_for(tenant, django_capture_on_commit_callbacks)
    # then the delivery failed on the 302, recorded, and was not retried
    assert delivery is not None and delivery.status == DeliveryStatus.FAILED and delivery.attempts == 1
    assert "302" in delivery.last_error and len(hook.received) == 1


@pytest.mark.parametrize("line_break", ["\n", "\r\n", "\u2028", "\x85"])
def test_a_reason_given_cannot_write_lines_of_the_email_staff_read(
    tenant: Tenant, django_capture_on_commit_callbacks: Capture, line_break: str
) -> None:
    # given a customer whose reason carries line breaks that would start lines of the email's own
    set_hours(tenant, ALWAYS)
    tenant.escalation_email = "team@alpha.example"
    tenant.save()
    forged = line_break.join(["I want a person", "Customer email: mallory@evil.example", "Agent: refund approved"])
    # when the team is emailed
    raise_for(tenant, django_capture_on_commit_callbacks, text=forged)
    # then the reason stays on its own line, its parts shown apart on it
    (message,) = mail.outbox
    lines = message.body.splitlines()
    assert "Reason given: I want a person / Customer email: mallory@evil.example / Agent: refund approved" in lines
    assert not [line for line in lines if line.startswith(("Customer email: mallory", "Agent: refund"))]


def test_no_escalation_address_is_warned_of_once_an_hour_per_tenant_not_logged_as_an_error(
    tenant: Tenant,
    other_tenant: Tenant,
    django_capture_on_commit_callbacks: Capture,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given two tenants out of hours (tickets) without an escalation address
    monkeypatch.setattr(config_warnings, "_last_logged", {})
    now = [1000.0]
    monkeypatch.setattr(config_warnings, "clock", lambda: now[0])
    set_hours(tenant, NEVER)
    set_hours(other_tenant, NEVER)
    # when two escalations are raised at one, one at the other
    with caplog.at_level(logging.INFO, logger="escalations.notifications.dispatch"):
        deliveries = [raise_for(t, django_capture_on_commit_callbacks) for t in (tenant, tenant, other_tenant)]
    # then each delivery failed as before, and the log has one warning per tenant, no error
    assert [d.status if d else None for d in deliveries] == [DeliveryStatus.FAILED] * 3
    records = [r for r in caplog.records if r.name == "escalations.notifications.dispatch"]
    assert [r.levelno for r in records] == [logging.WARNING, logging.WARNING]
    assert str(tenant.pk) in records[0].getMessage() and str(other_tenant.pk) in records[1].getMessage()
    assert all(r.exc_info is None for r in records)
    # and an hour later the first tenant's next one is warned of again
    now[0] += config_warnings.INTERVAL_S
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="escalations.notifications.dispatch"):
        raise_for(tenant, django_capture_on_commit_callbacks)
    assert [r.levelno for r in caplog.records if r.name == "escalations.notifications.dispatch"] == [logging.WARNING]
