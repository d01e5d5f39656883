"""A local HTTP server speaking the part of Stripe's API we call (form-encoded POST /v1/checkout/sessions and
POST /v1/checkout/sessions/<id>/expire).

Tests point the official SDK at it (``STRIPE_API_BASE``): the SDK's real request encoding, headers
(idempotency key, auth) and response parsing are exercised, including Stripe's error envelope.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl


@dataclass
class SeenRequest:
    method: str
    path: str
    headers: dict[str, str]
    form: dict[str, str]


@dataclass
class FakeStripe:
    errors: list[tuple[int, dict[str, Any]]] = field(default_factory=list)  # served before any success
    seen: list[SeenRequest] = field(default_factory=list)

    def __post_init__(self) -> None:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                form = dict(parse_qsl(raw, keep_blank_values=True))
                headers = {k.lower(): v for k, v in self.headers.items()}
                fake.seen.append(SeenRequest("POST", self.path, headers, form))
                if fake.errors:
                    status, body = fake.errors.pop(0)
                elif self.path == "/v1/checkout/sessions":
                    status, body = 200, fake.session(form, len(fake.seen))
                elif self.path.startswith("/v1/checkout/sessions/") and self.path.endswith("/expire"):
                    session_id = self.path.split("/")[4]
                    status, body = 200, {"id": session_id, "object": "checkout.session", "status": "expired"}
                else:
                    status, body = (
                        404,
                        {"error": {"type": "invalid_request_error", "message": "Unrecognized request URL"}},
                    )
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.send_header("Request-Id", f"req_test_{len(fake.seen)}")
                self.end_headers()
                self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @staticmethod
    def session(form: dict[str, str], number: int) -> dict[str, Any]:
        session_id = f"cs_test_{number:04d}"
        return {
            "id": session_id,
            "object": "checkout.session",
            "mode": form.get("mode"),
            "status": "open",
            "payment_status": "unpaid",
            "amount_total": int(form.get("line_items[0][price_data][unit_amount]", "0")),
            "currency": form.get("line_items[0][price_data][currency]"),
            "customer_email": form.get("customer_email"),
            "client_reference_id": form.get("client_reference_id"),
            "expires_at": int(form.get("expires_at", "0")),
            "metadata": {k[9:-1]: v for k, v in form.items() if k.startswith("metadata[")},
            "url": f"https://checkout.stripe.test/c/pay/{session_id}",
        }

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> FakeStripe:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
