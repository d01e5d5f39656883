"""Ticketing adapters for out-of-hours escalations.

``Ticketing`` is the interface; ``EmailTicketing`` (the default) opens a "ticket" as an email to the
tenant's escalation address with the customer as Reply-To, so the team answers from their mailbox.
It is the only adapter today; Zendesk and Freshdesk ones (planned for the integrations app, not
built yet) would register in ``TICKETING``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

from django.db import DatabaseError, transaction
from django.utils.module_loading import import_string

from escalations.models import Escalation, EscalationPolicy
from escalations.notifications.base import DeliveryError, NoAddress, Notice
from escalations.notifications.email import render_email

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TicketReceipt:
    reference: str


class Ticketing(Protocol):
    name: str

    def open_ticket(self, *, notice: Notice, escalation: Escalation) -> TicketReceipt: ...


class EmailTicketing:
    name = "email"

    def open_ticket(self, *, notice: Notice, escalation: Escalation) -> TicketReceipt:
        address = escalation.tenant.escalation_email
        if not address:
            raise NoAddress("the tenant has no escalation email address for tickets")
        message = render_email(notice, prefix="Ticket")
        message.to = [address]
        if notice.contact_email:
            message.reply_to = [notice.contact_email]
        try:
            message.send()
        except OSError as exc:
            raise DeliveryError(f"ticket email: {exc}", retryable=True) from exc
        return TicketReceipt(reference=f"email-{escalation.pk}")


TICKETING: dict[str, str] = {"email": "escalations.ticketing.EmailTicketing"}


def ticketing_for(*, escalation: Escalation) -> Ticketing:
    """The tenant's ticketing adapter (the email one until integrations configure another)."""
    adapter: Ticketing = import_string(TICKETING["email"])()
    return adapter


class TicketSender:
    def send(self, *, notice: Notice, escalation: Escalation, policy: EscalationPolicy) -> str:
        receipt = ticketing_for(escalation=escalation).open_ticket(notice=notice, escalation=escalation)
        try:  # the ticket is open: a failure to record its reference must not open it again
            with transaction.atomic():
                Escalation.objects.filter(pk=escalation.pk).update(ticket_reference=receipt.reference)
        except DatabaseError:
            logger.exception(
                "escalation %s: ticket %r opened but its reference not recorded", escalation.pk, receipt.reference[:200]
            )
        return receipt.reference
