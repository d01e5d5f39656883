"""A local HTTP server speaking the part of Stripe's API we call (form-encoded POST /v1/checkout/sessions,
POST /v1/checkout/sessions/<id>/expire, POST /v1/refunds and GET /v1/refunds?payment_intent=…).

Tests point the official SDK at it (``STRIPE_API_BASE``): the SDK's real request encoding, headers
(idempotency key, auth) and response parsing are exercised, including Stripe's error envelope. Like
Stripe, it replays the first answer to an idempotency key (errors too, except a rate limit or a
refused key, which Stripe does not store) instead of acting again: the refund as it was then, even
after it failed (``refund_fails``). Listing refunds gives each as it is now, those made elsewhere
(``refund_elsewhere``: Stripe's dashboard) too. ``lose_answers`` makes it act and then drop the
connection without answering, as a network failure after Stripe acted does.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

# Answers Stripe does not store for their idempotency key: the request was never run.
UNSTORED = frozenset({401, 429})
IDEMPOTENCY_MISMATCH = {
    "error": {
        "type": "idempotency_error",
        "message": "Keys for idempotent requests can only be used with the same parameters they were first used with.",
    }
}


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
    refunds: list[dict[str, Any]] = field(default_factory=list)  # made, not replayed
    refund_status: str = "succeeded"
    now: int = 1_800_000_000  # Stripe's clock: the ``created`` of the refunds made
    lose_answers: int = 0  # requests to act on and then answer nothing (the connection dropped)
    list_errors: list[tuple[int, dict[str, Any]]] = field(default_factory=list)  # served to GETs before any list
    answers: dict[str, tuple[SeenRequest, int, dict[str, Any]]] = field(default_factory=dict)  # by idempotency key

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
                request = SeenRequest("POST", self.path, headers, form)
                fake.seen.append(request)
                key = headers.get("idempotency-key", "")
                first = fake.answers.get(key)
                replayed = first is not None
                if first is None:
                    status, body = fake.answer(self.path, form)
                    if key and status not in UNSTORED:
                        fake.answers[key] = request, status, body
                elif (first[0].path, first[0].form) != (self.path, form):
                    status, body = 400, IDEMPOTENCY_MISMATCH
                else:
                    status, body = first[1:]
                if fake.lose_answers:
                    fake.lose_answers -= 1
                    self.close_connection = True
                    return
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.send_header("Request-Id", f"req_test_{len(fake.seen)}")
                if replayed:
                    self.send_header("Idempotent-Replayed", "true")
                self.end_headers()
                self.wfile.write(payload)

            def do_GET(self) -> None:
                path, _, query = self.path.partition("?")
                params = dict(parse_qsl(query, keep_blank_values=True))
                headers = {k.lower(): v for k, v in self.headers.items()}
                fake.seen.append(SeenRequest("GET", self.path, headers, params))
                if fake.list_errors:
                    status, body = fake.list_errors.pop(0)
                elif path == "/v1/refunds":
                    status, body = 200, fake.refund_list(params.get("payment_intent", ""))
                else:
                    status, body = 404, {"error": {"type": "invalid_request_error", "message": "Unrecognized URL"}}
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def answer(self, path: str, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if self.errors:
            return self.errors.pop(0)
        if path == "/v1/checkout/sessions":
            return 200, self.session(form, len(self.seen))
        if path.startswith("/v1/checkout/sessions/") and path.endswith("/expire"):
            return 200, {"id": path.split("/")[4], "object": "checkout.session", "status": "expired"}
        if path == "/v1/refunds":
            return 200, self.refund(form)
        return 404, {"error": {"type": "invalid_request_error", "message": "Unrecognized request URL"}}

    def refund(self, form: dict[str, str]) -> dict[str, Any]:
        intent = form.get("payment_intent", "")
        refund = {
            "id": f"re_test_{len(self.refunds) + 1:04d}",
            "object": "refund",
            "amount": int(form.get("amount", "0")),
            "charge": f"ch_for_{intent}",
            "created": self.now,
            "failure_reason": None,
            "payment_intent": intent,
            "reason": form.get("reason"),
            "status": self.refund_status,
            "metadata": {k[9:-1]: v for k, v in form.items() if k.startswith("metadata[")},
        }
        self.refunds.append(refund)
        return dict(refund)  # the answer as it was: a later change of the refund is not replayed

    def refund_elsewhere(self, intent: str, amount: int, *, refund_id: str, created: int) -> dict[str, Any]:
        """A refund made outside our API calls (Stripe's dashboard)."""
        refund = {
            "id": refund_id,
            "object": "refund",
            "amount": amount,
            "charge": f"ch_for_{intent}",
            "created": created,
            "failure_reason": None,
            "payment_intent": intent,
            "status": "succeeded",
            "metadata": {},
        }
        self.refunds.append(refund)
        return dict(refund)

    def refund_fails(self, refund_id: str, reason: str = "expired_or_canceled_card") -> None:
        """The bank bounced the refund: it is failed now (no webhook is sent)."""
        (refund,) = [r for r in self.refunds if r["id"] == refund_id]
        refund["status"], refund["failure_reason"] = "failed", reason

    def refund_list(self, intent: str) -> dict[str, Any]:
        """The refunds of payment intent ``intent`` as they are now, newest first."""
        refunds = [dict(r) for r in reversed(self.refunds) if r["payment_intent"] == intent]
        return {"object": "list", "data": refunds, "has_more": False, "url": "/v1/refunds"}

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
