"""A local HTTP server that plays a vendor API: tests register handlers per path and read requests."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

# A handler answers (status, payload) or (status, payload, extra headers).
Handler = Callable[[dict[str, Any]], tuple[Any, ...]]


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class FakeApi:
    url: str
    routes: dict[str, Handler] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)

    def route(self, path: str, handler: Handler) -> None:
        self.routes[path] = handler


@pytest.fixture
def fake_api() -> Iterator[FakeApi]:
    api = FakeApi(url="")

    class RequestHandler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else {}
            path = self.path.split("?")[0]
            api.requests.append(Recorded(path, {k.lower(): v for k, v in self.headers.items()}, body))
            handler = api.routes.get(path)
            status, payload, *extra = handler(body) if handler else (404, {"message": f"no route {path}"})
            headers: dict[str, str] = extra[0] if extra else {}
            # bytes go out as they are (a proxy's HTML page, a body cut short), anything else as JSON
            if isinstance(payload, bytes):
                data, content_type = payload, "text/html"
            else:
                data, content_type = json.dumps(payload).encode(), "application/json"
            try:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client timed out and hung up: what a timeout test asks for

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), RequestHandler)
    api.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()
