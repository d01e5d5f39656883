"""Email backends for tests: Django's locmem outbox, except that sending fails the way SMTP does."""

from __future__ import annotations

from collections.abc import Sequence
from smtplib import SMTPRecipientsRefused

from django.core.mail import EmailMessage
from django.core.mail.backends import locmem


class UnreachableBackend(locmem.EmailBackend):
    """The mail server refuses the connection (an ``OSError``, as ``smtplib`` raises it)."""

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        raise ConnectionRefusedError(111, "Connection refused")


class RefusingBackend(locmem.EmailBackend):
    """The mail server answers and refuses every recipient."""

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        raise SMTPRecipientsRefused(
            {address: (550, b"5.1.1 mailbox unavailable") for m in email_messages for address in m.to}
        )


UNREACHABLE = "bookings.tests.mail_backends.UnreachableBackend"
REFUSING = "bookings.tests.mail_backends.RefusingBackend"
