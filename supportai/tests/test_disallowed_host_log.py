"""A Host not in ALLOWED_HOSTS, over HTTP or on a websocket, is refused and logged by
``django.security.DisallowedHost`` as one WARNING line (host, path, client), never with a traceback."""

from __future__ import annotations

import logging

import pytest
from channels.testing import WebsocketCommunicator
from django.test import Client

from supportai.asgi import application
from supportai.models import Tenant
from supportai.tests.websockets import disconnect

LOGGER = "django.security.DisallowedHost"
EVIL = "evil.example"
# a host an attacker floods the log with: long, with a line break (a forged log line) and a bidi override
FORGED = "a" * 5000 + "\n2026-01-01 ERROR forged line \u202e"


def _disallowed_host_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The formatted DisallowedHost records; each must be one WARNING line without a trace."""
    records = [record for record in caplog.records if record.name == LOGGER]
    for record in records:
        assert record.levelno == logging.WARNING, record.levelname
        assert record.exc_info is None and record.stack_info is None
    lines = [logging.Formatter("%(levelname)s %(name)s %(message)s").format(record) for record in records]
    for line in lines:
        assert "\n" not in line and "Traceback" not in line and len(line) < 600, line[:600]
    return lines


def test_an_http_request_for_another_host_is_one_warning_line(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="django")
    # when a request names a host we do not serve
    response = Client().get("/console/?next=x", HTTP_HOST=EVIL, REMOTE_ADDR="203.0.113.9")
    # then it is refused and logged once, with the host, the path and the client
    assert response.status_code == 400
    [line] = _disallowed_host_lines(caplog)
    assert line.startswith(f"WARNING {LOGGER} ")
    assert f"host '{EVIL}'" in line and "'/console/'" in line and "203.0.113.9" in line


def test_a_forged_host_is_cut_and_escaped_in_the_line(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="django")
    response = Client().get("/console/%0aforged", HTTP_HOST=FORGED)
    assert response.status_code == 400
    [line] = _disallowed_host_lines(caplog)
    assert "aaa…'" in line and "\\n" in line and "\u202e" not in line
    assert "'/console/\\nforged'" in line


def test_other_security_loggers_keep_their_records(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="django")
    # when a form post has more fields than Django accepts (django.security.TooManyFieldsSent)
    body = "&".join(f"f{number}=1" for number in range(1001))
    response = Client(HTTP_HOST="testserver").post(
        "/admin/login/", body, content_type="application/x-www-form-urlencoded"
    )
    # then that record is Django's own: an ERROR with its traceback
    assert response.status_code == 400
    [record] = [record for record in caplog.records if record.name.startswith("django.security.")]
    assert (record.name, record.levelno) == ("django.security.TooManyFieldsSent", logging.ERROR)
    assert record.exc_info is not None


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
@pytest.mark.parametrize("path", ["/ws/chat/?key={key}", "/ws/inbox/?tenant={tenant}"])
async def test_a_websocket_for_another_host_is_refused_in_one_warning_line(
    tenant: Tenant, path: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="django")
    # given a page on a host we do not serve whose name resolves to us (DNS rebinding): the
    # browser sends that host and its origin, which the widget's same-host rule would accept
    headers = [(b"host", EVIL.encode()), (b"origin", f"http://{EVIL}".encode())]
    url = path.format(key=tenant.public_key, tenant=tenant.pk)
    communicator = WebsocketCommunicator(application, url, headers=headers)
    communicator.scope["client"] = ["203.0.113.9", 50000]
    try:
        # when it opens the socket
        connected, _ = await communicator.connect(timeout=20)
        # then the handshake is refused and logged once, as one line
        assert not connected
    finally:
        await disconnect(communicator)
    [line] = _disallowed_host_lines(caplog)
    assert f"host '{EVIL}'" in line and f"'{url.split('?')[0]}'" in line and "203.0.113.9" in line


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
@pytest.mark.parametrize("host", [b"testserver", b"testserver:8000", b"localhost"])
async def test_a_websocket_for_an_allowed_host_opens(tenant: Tenant, host: bytes) -> None:
    headers = [(b"host", host), (b"origin", b"http://" + host)]
    communicator = WebsocketCommunicator(application, f"/ws/chat/?key={tenant.public_key}", headers=headers)
    try:
        connected, _ = await communicator.connect(timeout=20)
        assert connected
        assert (await communicator.receive_json_from(timeout=20))["type"] == "session.ready"
    finally:
        await disconnect(communicator)


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_websocket_naming_two_hosts_is_refused(tenant: Tenant, caplog: pytest.LogCaptureFixture) -> None:
    # two Host lines are joined as Django joins them over HTTP: no longer one allowed host
    headers = [(b"host", b"testserver"), (b"origin", b"http://testserver"), (b"Host", EVIL.encode())]
    communicator = WebsocketCommunicator(application, f"/ws/chat/?key={tenant.public_key}", headers=headers)
    try:
        connected, _ = await communicator.connect(timeout=20)
        assert not connected
    finally:
        await disconnect(communicator)
    [line] = _disallowed_host_lines(caplog)
    assert f"host 'testserver,{EVIL}'" in line


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_with_use_x_forwarded_host_the_forwarded_host_is_checked_and_logged(
    tenant: Tenant, settings, caplog: pytest.LogCaptureFixture
) -> None:
    settings.USE_X_FORWARDED_HOST = True
    headers = [(b"host", b"testserver"), (b"origin", b"http://testserver"), (b"x-forwarded-host", EVIL.encode())]
    communicator = WebsocketCommunicator(application, f"/ws/chat/?key={tenant.public_key}", headers=headers)
    try:
        connected, _ = await communicator.connect(timeout=20)
        assert not connected
    finally:
        await disconnect(communicator)
    response = Client().get("/console/", HTTP_HOST="testserver", HTTP_X_FORWARDED_HOST=EVIL)
    assert response.status_code == 400
    lines = _disallowed_host_lines(caplog)
    assert len(lines) == 2 and all(f"host '{EVIL}'" in line for line in lines)
