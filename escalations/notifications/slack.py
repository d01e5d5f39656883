"""Slack incoming webhook, through the official ``slack_sdk`` client."""

from __future__ import annotations

from slack_sdk.webhook import WebhookClient

from escalations.models import Escalation, EscalationPolicy
from escalations.notifications.base import DeliveryError, Notice
from escalations.notifications.targets import check_public_url

TIMEOUT_S = 10


def _escape(text: str) -> str:
    """Slack mrkdwn control characters (https://api.slack.com/reference/surfaces/formatting#escaping)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_text(notice: Notice) -> str:
    reasons = ", ".join(notice.reason_codes) or "request"
    last = notice.summary.splitlines()[-3:]
    quoted = "\n".join(f">{_escape(line)}" for line in last)
    return (
        f"*{_escape(notice.tenant_name)}*: escalation #{notice.escalation_id} ({notice.priority}, {notice.mode}) — "
        f"{_escape(reasons)}\n{quoted}\n<{notice.console_url}|Open in the inbox>"
    )


class SlackSender:
    def send(self, *, notice: Notice, escalation: Escalation, policy: EscalationPolicy) -> str:
        if not policy.slack_webhook_url:
            raise DeliveryError("no Slack webhook configured", retryable=False)
        check_public_url(policy.slack_webhook_url)
        client = WebhookClient(policy.slack_webhook_url, timeout=TIMEOUT_S)
        try:
            response = client.send(text=slack_text(notice))
        except OSError as exc:  # connection refused, timeouts, DNS
            raise DeliveryError(f"slack: {exc}", retryable=True) from exc
        if response.status_code != 200:
            retryable = response.status_code >= 500 or response.status_code == 429
            raise DeliveryError(f"slack answered {response.status_code}: {response.body[:200]}", retryable=retryable)
        return "slack ok"
