"""A local HTTP server that receives webhooks: scripted statuses, raw bodies and headers recorded."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Sink:
    url: str
    statuses: list[int] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    error_body: bytes = b"server_error"
    received: list[Received] = field(default_factory=list)
    on_request: Callable[[], None] | None = None


@contextmanager
def http_sink(
    statuses: list[int], *, headers: dict[str, str] | None = None, error_body: bytes = b"server_error"
) -> Iterator[Sink]:
    """Answers each POST with the next status (200 once they run out), ``headers`` on every answer,
    body ``ok`` for 200 and ``error_body`` otherwise. A test may set ``sink.on_request``: it runs (in
    the server's thread) once a request is recorded and before it is answered."""
    sink = Sink(url="", statuses=list(statuses), headers=dict(headers or {}), error_body=error_body)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            sink.received.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            if sink.on_request is not None:
                sink.on_request()
            status = sink.statuses.pop(0) if sink.statuses else 200
            payload = b"ok" if status == 200 else sink.error_body
            self.send_response(status)
            for name, value in sink.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    sink.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    try:
        yield sink
    finally:
        server.shutdown()
        server.server_close()
