"""Helpers for tests of our database failing under a public (widget) endpoint: the failure is injected by
the ``fail`` fixture (``chat/tests/conftest.py``) and answered as the protocol's ``unavailable`` error."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import pytest
from django.db import OperationalError
from django.test import Client

from chat.phrases import ErrorText, error_message
from chat.tests.urls_under_test import MESSAGES
from supportai.models import Tenant

UNAVAILABLE = {"type": "error", "code": "unavailable", "message": error_message(ErrorText.INTERNAL, language="en")}
ORIGIN = "https://alpha.example.com"
STATEMENT_TIMEOUT = OperationalError("canceling statement due to statement timeout")

# fail(name, error) makes chat.services.<name> raise error once; fail(name, error, where=module) <module>.<name>
Fail = Callable[..., None]


def post(body: dict[str, Any], path: str = MESSAGES, origin: str = ORIGIN) -> Any:
    return Client().post(path, data=json.dumps(body), content_type="application/json", HTTP_ORIGIN=origin)


def first_turn(tenant: Tenant) -> dict[str, Any]:
    """A conversation of ``tenant`` with a question and its answer: the ``/messages`` answer."""
    response = post({"key": tenant.public_key, "client_id": "s-1", "text": "Do you open on Sundays?"})
    assert response.status_code == 200, response.content
    first: dict[str, Any] = response.json()
    return first


def failure_logs(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """Our error records (Django's ``django.request`` also logs every 5xx status, without a traceback)."""
    return [record for record in caplog.records if record.levelno >= logging.ERROR and record.name.startswith("chat.")]


def assert_unavailable(response: Any) -> None:
    assert response.status_code == 503, response.content
    assert response.json() == UNAVAILABLE
    assert response["Access-Control-Allow-Origin"] == ORIGIN
