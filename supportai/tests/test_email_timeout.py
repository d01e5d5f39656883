"""An SMTP server that accepts the connection and never answers fails the send instead of hanging it."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.core.mail import send_mail
from django.core.mail.backends.smtp import EmailBackend

from supportai.tests.silent_socket import accepting_silently


@pytest.fixture
def silent_smtp() -> Iterator[int]:
    """A TCP port that accepts connections and never sends the SMTP greeting."""
    server = socket.create_server(("127.0.0.1", 0))
    with accepting_silently(server):
        yield server.getsockname()[1]


def test_smtp_connections_have_a_timeout() -> None:
    # given the project's settings, when Django builds its SMTP backend, then it carries our timeout
    backend = EmailBackend()
    assert settings.EMAIL_TIMEOUT == 10
    assert backend.timeout == settings.EMAIL_TIMEOUT


def test_a_silent_smtp_server_fails_the_send_instead_of_hanging_it(settings, silent_smtp: int) -> None:
    # given an SMTP server that never greets (the timeout lowered so the test is quick)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", silent_smtp
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 0.5
    # when a mail is sent, then the send raises the timeout (an OSError the email tasks retry)
    with pytest.raises(OSError):
        send_mail("Subject", "Body", "from@example.org", ["to@example.org"])
