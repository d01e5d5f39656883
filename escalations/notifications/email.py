"""Escalation email to the tenant's escalation address (text + HTML, customer text escaped)."""

from __future__ import annotations

import re
from smtplib import SMTPException

from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from escalations.models import Escalation, EscalationPolicy
from escalations.notifications.base import DeliveryError, NoAddress, Notice
from escalations.summary import one_line

_HEADER_UNSAFE = re.compile(r"[\r\n\t]+")


def subject_for(notice: Notice, *, prefix: str = "Escalation") -> str:
    if notice.is_update:
        subject = f"[{notice.tenant_name}] {prefix} #{notice.escalation_id}: customer's email address"
    else:
        reasons = ", ".join(notice.reason_codes) or "request"
        subject = f"[{notice.tenant_name}] {prefix} #{notice.escalation_id} ({notice.priority}): {reasons}"
    return _HEADER_UNSAFE.sub(" ", subject)[:200]


def render_email(notice: Notice, *, prefix: str = "Escalation") -> EmailMultiAlternatives:
    """The escalation, or for an update a short note naming what it adds (``prefix`` names the thing: a ticket…)."""
    context = {
        "notice": notice,
        "kind": prefix.lower(),
        "summary_lines": notice.summary.splitlines(),
        # the customer's own words, each on its line of the text part: a line break in them would start a
        # line that reads as the email's (another "Customer email:", a transcript line in the agent's name)
        "reason_given": one_line(notice.reason),
        "phone": one_line(notice.contact_phone),
    }
    template = "escalations/email/updated" if notice.is_update else "escalations/email/escalation"
    message = EmailMultiAlternatives(
        subject=subject_for(notice, prefix=prefix), body=render_to_string(f"{template}.txt", context)
    )
    message.attach_alternative(render_to_string(f"{template}.html", context), "text/html")
    return message


class EmailSender:
    def send(self, *, notice: Notice, escalation: Escalation, policy: EscalationPolicy) -> str:
        address = escalation.tenant.escalation_email
        if not address:
            raise NoAddress("the tenant has no escalation email address")
        message = render_email(notice)
        message.to = [address]
        if _is_address(notice.contact_email):
            message.reply_to = [notice.contact_email]
        try:
            message.send()
        except (SMTPException, OSError) as exc:
            raise DeliveryError(f"email: {exc}", retryable=True) from exc
        return address


def _is_address(value: str) -> bool:
    return bool(value) and "@" in value and not _HEADER_UNSAFE.search(value)
