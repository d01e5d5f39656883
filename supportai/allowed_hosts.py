"""Requests and websockets for a host we do not serve: refused, and logged as one line.

Django refuses an HTTP request whose ``Host`` is not in ``ALLOWED_HOSTS`` (400) and logs it to
``django.security.DisallowedHost`` as an ERROR with a full traceback: a screenful per request that
anyone can send in a loop, and mailed to ``ADMINS``. ``DisallowedHostLine`` (a filter on that one
logger, set in ``LOGGING``) turns each such record into one WARNING line naming the host (cut and
escaped), the path and the client; Django's other security loggers are left as they are.

Channels checks no ``Host`` at all, so a page on any host whose name resolves to us (DNS rebinding)
could open the widget's socket under the same-host origin rule. ``AllowedHostsMiddleware`` refuses
such a websocket handshake (403) with the same check and the same log line.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest

from supportai.client_address import client_ip_from_request, client_ip_from_scope
from supportai.quoted import Quoted

logger = logging.getLogger("django.security.DisallowedHost")

HOST_HEADERS = {b"host": "HTTP_HOST", b"x-forwarded-host": "HTTP_X_FORWARDED_HOST"}


def disallowed_host_message(request: HttpRequest, *, client: str) -> str:
    """One line for the log: the host as the client sent it (the header Django read), the path and
    the client's address."""
    meta = request.META
    if settings.USE_X_FORWARDED_HOST and "HTTP_X_FORWARDED_HOST" in meta:
        host = meta["HTTP_X_FORWARDED_HOST"]
    else:
        host = meta.get("HTTP_HOST", meta.get("SERVER_NAME", ""))
    return f"host {Quoted(host)!r} is not in ALLOWED_HOSTS: refused {Quoted(request.path)!r} from {client}"


class DisallowedHostLine(logging.Filter):
    """Makes Django's record of a refused host one WARNING line, without its traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        if isinstance(request, HttpRequest):
            record.msg, record.args = disallowed_host_message(request, client=client_ip_from_request(request)), ()
            record.levelno, record.levelname = logging.WARNING, logging.getLevelName(logging.WARNING)
            record.exc_info = record.exc_text = record.stack_info = None
        return True


class AllowedHostsMiddleware:
    """ASGI middleware: a websocket handshake for a host not in ``ALLOWED_HOSTS`` is refused and logged."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Mapping[str, Any], receive: Any, send: Any) -> Any:
        if scope["type"] == "websocket":
            request = _request(scope)
            try:
                request.get_host()
            except DisallowedHost:
                logger.warning(disallowed_host_message(request, client=client_ip_from_scope(scope)))
                return await WebsocketDenier.as_asgi()(scope, receive, send)
        return await self.app(scope, receive, send)


def _request(scope: Mapping[str, Any]) -> HttpRequest:
    """What Django's host check reads of a handshake: its host headers (repeated lines joined with
    commas, as Django's ASGI handler does, so that two hosts are refused), server and path."""
    request = HttpRequest()
    request.path = str(scope.get("path", ""))
    server = scope.get("server") or ("", "")
    request.META = {"SERVER_NAME": str(server[0] or ""), "SERVER_PORT": str(server[1] or "")}
    for name, value in scope.get("headers", ()):
        key = HOST_HEADERS.get(name.lower())
        if key is not None:
            line = value.decode("latin-1")
            request.META[key] = f"{request.META[key]},{line}" if key in request.META else line
    return request
