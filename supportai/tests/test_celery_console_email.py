"""With ``EMAIL_URL=console://`` a Celery worker's emails are printed to stdout, which the worker hands
to its log (``celery.redirected``): each line must be an INFO record, not a WARNING."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest
from django.core.mail import EmailMessage, get_connection

from supportai.celery import app
from supportai.email_config import email_settings


def test_a_console_email_in_the_worker_is_logged_at_info(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    # given stdout and stderr redirected to the log as the worker redirects them (put back afterwards)
    for stream in ("stdout", "stderr"):
        monkeypatch.setattr(sys, stream, getattr(sys, stream))
    for variable in ("CELERY_LOG_REDIRECT", "CELERY_LOG_REDIRECT_LEVEL"):
        monkeypatch.delenv(variable, raising=False)
    app.log.redirect_stdouts(app.conf.worker_redirect_stdouts_level)
    backend = email_settings("console://", data_dir=tmp_path).backend
    # when a task sends an email through the console backend
    with caplog.at_level(logging.DEBUG, logger="celery.redirected"):
        EmailMessage(
            "Your booking", "See you on Monday.", to=["ana@example.com"], connection=get_connection(backend)
        ).send()
    # then its lines are in the log, at INFO
    records = [record for record in caplog.records if record.name == "celery.redirected"]
    assert any("See you on Monday." in record.getMessage() for record in records)
    assert {record.levelno for record in records} == {logging.INFO}
