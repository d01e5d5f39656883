"""Generic outbound webhook: JSON POST signed with HMAC-SHA256 (never sent without a secret).

Receivers verify ``X-SupportAI-Signature: sha256=<hex>`` where the hex digest is
HMAC-SHA256(secret, f"{X-SupportAI-Timestamp}.{raw body}"); reject timestamps older than five minutes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time

from escalations.models import Escalation, EscalationPolicy
from escalations.notifications.base import DeliveryError, Notice
from escalations.notifications.targets import post, refuse_gone

TIMEOUT_S = 10.0
SIGNATURE_HEADER = "X-SupportAI-Signature"
TIMESTAMP_HEADER = "X-SupportAI-Timestamp"
# A row saved before the admin required a secret (or written outside admin): never sent unsigned.
NO_SIGNING_SECRET = "no webhook signing secret configured"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


class WebhookSender:
    def send(self, *, notice: Notice, escalation: Escalation, policy: EscalationPolicy) -> str:
        if not policy.webhook_url:
            raise DeliveryError("no webhook URL configured", retryable=False)
        if not policy.webhook_secret:
            raise DeliveryError(NO_SIGNING_SECRET, retryable=False)
        body = json.dumps(notice.payload(), sort_keys=True).encode()
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(policy.webhook_secret, timestamp, body),
            "User-Agent": "SupportAI-Webhook/1",
        }
        response = post(policy.webhook_url, content=body, headers=headers, timeout_s=TIMEOUT_S, channel="webhook")
        refuse_gone(response, url=policy.webhook_url, channel="webhook")
        if response.status_code >= 300:
            retryable = response.status_code >= 500 or response.status_code in (408, 429)
            raise DeliveryError(
                f"webhook answered {response.status_code}",
                retryable=retryable,
                retry_after=response.retry_after,
            )
        return f"webhook {response.status_code}"
