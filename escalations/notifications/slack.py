"""Slack incoming webhook (https://api.slack.com/messaging/webhooks): a JSON POST of ``{"text": …}``.

Sent with our own guarded HTTP client rather than ``slack_sdk``'s ``WebhookClient``, which resolves
the host itself (urllib) and honours environment proxies, so the SSRF check could not hold at
connect time. Slack answers 200 ``ok``; errors are 4xx with a plain-text code (``invalid_payload``,
``no_service``, ``channel_is_archived``…), which a retry would not fix (410 Gone, a webhook that will not come
back, also switches Slack off: ``gone``), 429 with ``Retry-After``, and 5xx (``rollup_error``).
"""

from __future__ import annotations

import json

from escalations.models import Escalation, EscalationPolicy
from escalations.notifications.base import DeliveryError, Notice
from escalations.notifications.targets import post, refuse_gone

TIMEOUT_S = 10.0
HEADERS = {"Content-Type": "application/json;charset=utf-8", "User-Agent": "SupportAI-Slack/1"}


# Slack has no escape for its formatting characters, so text not ours shows them as look-alikes: a
# customer's ``` would otherwise open a code block swallowing the inbox link after it, and a ``*`` in the
# tenant's name would end the bold around it.
_FORMATTING = str.maketrans({"*": "\u2217", "_": "\u02cd", "~": "\u223c", "`": "\u02cb"})


def _escape(text: str) -> str:
    """Text we did not write, shown as written: Slack's control characters escaped as it documents
    (https://api.slack.com/reference/surfaces/formatting#escaping), so it cannot make a link or a mention
    (``<https://…|…>``, ``<!channel>``, ``<@U123>``), and its formatting characters neutralised."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").translate(_FORMATTING)


def slack_text(notice: Notice) -> str:
    if notice.is_update:  # the address itself stays out of Slack: the ticket and the inbox have it
        return (
            f"*{_escape(notice.tenant_name)}*: escalation #{notice.escalation_id} updated — "
            f"the customer has given their email address\n<{notice.console_url}|Open in the inbox>"
        )
    reasons = ", ".join(notice.reason_codes) or "request"
    last = notice.summary.splitlines()[-3:]
    quoted = "\n".join(f">{_escape(line)}" for line in last)
    return (
        f"*{_escape(notice.tenant_name)}*: escalation #{notice.escalation_id} ({notice.priority}, {notice.mode}) — "
        f"{reasons}\n{quoted}\n<{notice.console_url}|Open in the inbox>"
    )


class SlackSender:
    def send(self, *, notice: Notice, escalation: Escalation, policy: EscalationPolicy) -> str:
        if not policy.slack_webhook_url:
            raise DeliveryError("no Slack webhook configured", retryable=False)
        body = json.dumps({"text": slack_text(notice)}).encode()
        url = policy.slack_webhook_url
        response = post(url, content=body, headers=HEADERS, timeout_s=TIMEOUT_S, channel="slack")
        refuse_gone(response, url=url, channel="slack")
        if response.status_code != 200:
            retryable = response.status_code >= 500 or response.status_code == 429
            raise DeliveryError(
                f"slack answered {response.status_code}: {response.text[:200]}",
                retryable=retryable,
                retry_after=response.retry_after,
            )
        return "slack ok"
