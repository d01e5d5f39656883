"""The contract every notification channel follows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from django.conf import settings

from escalations.models import Escalation, EscalationPolicy, EventKind


class DeliveryError(Exception):
    """``retry_after`` (seconds) is the receiver's own wait before a retry (HTTP ``Retry-After``)."""

    def __init__(self, message: str, *, retryable: bool, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after


class NoAddress(DeliveryError):
    """The tenant has no address on file for the channel: its configuration, not our error (a warning
    once an hour per tenant, ``supportai.config_warnings``); the delivery fails without a retry."""

    def __init__(self, message: str) -> None:
        super().__init__(message, retryable=False)


class TargetGone(DeliveryError):
    """The receiver at ``url`` answered 410 Gone: it will not take notifications again, so the channel is
    switched off (``gone.receiver_switch_off``) rather than sent to until a person notices."""

    def __init__(self, message: str, *, url: str) -> None:
        super().__init__(message, retryable=False)
        self.url = url


@dataclass(frozen=True)
class Notice:
    """What every channel says about an escalation (plain values; channels escape for their format).

    ``event`` is the delivery's: ``created`` announces the escalation; ``updated`` follows up on one
    the team already has (today: the customer's email address, given after the ticket went).
    """

    event: EventKind
    escalation_id: int
    tenant_name: str
    tenant_slug: str
    priority: str
    status: str
    mode: str
    reason_codes: tuple[str, ...]
    reason: str
    contact_email: str
    contact_phone: str
    summary: str
    sla_due_at: str
    created_at: str
    console_url: str

    @property
    def is_update(self) -> bool:
        return self.event == EventKind.UPDATED

    def payload(self) -> dict[str, Any]:
        """The webhook body: ``event`` is ``escalation.created`` or ``escalation.updated``."""
        return {**self.__dict__, "event": f"escalation.{self.event.value}", "reason_codes": list(self.reason_codes)}


def console_url(escalation_id: int) -> str:
    base: str = getattr(settings, "ESCALATIONS_PUBLIC_URL", "http://127.0.0.1:8000")
    return f"{base.rstrip('/')}/console/inbox/{escalation_id}/"


def notice_for(escalation: Escalation, *, event: EventKind) -> Notice:
    return Notice(
        event=event,
        escalation_id=escalation.pk,
        tenant_name=escalation.tenant.name,
        tenant_slug=escalation.tenant.slug,
        priority=escalation.priority,
        status=escalation.status,
        mode=escalation.mode,
        reason_codes=tuple(escalation.reason_codes),
        reason=escalation.reason,
        contact_email=escalation.contact_email,
        contact_phone=escalation.contact_phone,
        summary=escalation.summary,
        sla_due_at=escalation.sla_due_at.isoformat(),
        created_at=escalation.created_at.isoformat(),
        console_url=console_url(escalation.pk),
    )


class Sender(Protocol):
    def send(self, *, notice: Notice, escalation: Escalation, policy: EscalationPolicy) -> str:
        """Deliver; return a short receipt (message id, ticket reference…) or raise ``DeliveryError``."""
        ...
