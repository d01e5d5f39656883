"""A local HTTP server speaking the part of Stripe's API we call (form-encoded POST /v1/checkout/sessions,
POST /v1/checkout/sessions/<id>/expire, POST /v1/refunds, GET /v1/refunds?payment_intent=… and
GET /v1/payment_intents/<id>, its ``latest_charge`` expanded or not).

Tests point the official SDK at it (``STRIPE_API_BASE``): the SDK's real request encoding, headers
(idempotency key, auth) and response parsing are exercised, including Stripe's error envelope. Like
Stripe, it replays the first answer to an idempotency key (errors too, except a rate limit or a
refused key, which Stripe does not store) instead of acting again: the refund as it was then, even
after it failed (``refund_fails``). Listing refunds gives each as it is now, those made elsewhere
(``refund_elsewhere``: Stripe's dashboard) too. ``lose_answers`` makes it act and then drop the
connection without answering, as a network failure after Stripe acted does.

A payment intent exists once a test has paid it (``pay``): its one charge took that amount, and its
``amount_refunded`` is what its refunds made or pending hold. Like Stripe, a refund of an unknown
payment intent is refused (400 ``resource_missing``), one of a charge refunded in full too (400
``charge_already_refunded``), and one of more than the charge has left unrefunded with Stripe's
"Refund amount (…) is greater than unrefunded amount on charge (…)" (400, ``param`` amount).
``before_refund`` runs before each refund request is answered (someone refunding in Stripe's
dashboard meanwhile).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

# Refund statuses whose amount the charge counts refunded (``amount_refunded``).
HELD = frozenset({"succeeded", "pending"})
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
    list_errors: list[tuple[int, dict[str, Any]]] = field(default_factory=list)  # served before any refund list
    intent_errors: list[tuple[int, dict[str, Any]]] = field(default_factory=list)  # before any payment intent
    answers: dict[str, tuple[SeenRequest, int, dict[str, Any]]] = field(default_factory=dict)  # by idempotency key
    charges: dict[str, int] = field(default_factory=dict)  # payment intent -> what its charge took (``pay``)
    before_refund: list[Callable[[], None]] = field(default_factory=list)  # each run once, oldest first

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
                intent_read = path.startswith("/v1/payment_intents/")
                if path == "/v1/refunds" and fake.list_errors:
                    status, body = fake.list_errors.pop(0)
                elif intent_read and fake.intent_errors:
                    status, body = fake.intent_errors.pop(0)
                elif path == "/v1/refunds":
                    status, body = 200, fake.refund_list(params.get("payment_intent", ""))
                elif intent_read:
                    expand = {v for k, v in params.items() if k.startswith("expand[")}
                    status, body = fake.payment_intent(path.split("/")[3], expand_charge="latest_charge" in expand)
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
        if path == "/v1/refunds":
            for hook in self.before_refund[:1]:
                self.before_refund.remove(hook)
                hook()
        if self.errors:
            return self.errors.pop(0)
        if path == "/v1/checkout/sessions":
            return 200, self.session(form, len(self.seen))
        if path.startswith("/v1/checkout/sessions/") and path.endswith("/expire"):
            return 200, {"id": path.split("/")[4], "object": "checkout.session", "status": "expired"}
        if path == "/v1/refunds":
            return self.refund_checked(form)
        return 404, {"error": {"type": "invalid_request_error", "message": "Unrecognized request URL"}}

    def pay(self, intent: str, amount: int) -> None:
        """The customer paid ``amount`` under payment intent ``intent`` (its one charge)."""
        self.charges[intent] = amount

    def unrefunded(self, intent: str) -> int:
        held = sum(r["amount"] for r in self.refunds if r["payment_intent"] == intent and r["status"] in HELD)
        return self.charges[intent] - held

    def charge(self, intent: str) -> dict[str, Any]:
        amount, left = self.charges[intent], self.unrefunded(intent)
        return {
            "id": f"ch_for_{intent}",
            "object": "charge",
            "amount": amount,
            "amount_refunded": amount - left,
            "refunded": left == 0,
            "payment_intent": intent,
        }

    def payment_intent(self, intent: str, *, expand_charge: bool) -> tuple[int, dict[str, Any]]:
        if intent not in self.charges:
            return 404, self.no_such_intent(intent)
        charge = self.charge(intent)
        return 200, {
            "id": intent,
            "object": "payment_intent",
            "amount": charge["amount"],
            "status": "succeeded",
            "latest_charge": charge if expand_charge else charge["id"],
        }

    @staticmethod
    def no_such_intent(intent: str) -> dict[str, Any]:
        message = f"No such payment_intent: '{intent}'"
        return {"error": {"type": "invalid_request_error", "code": "resource_missing", "message": message}}

    def refund_checked(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        """Stripe's answer to a refund request: the refund, or why it refuses it."""
        intent = form.get("payment_intent", "")
        if intent not in self.charges:
            return 400, self.no_such_intent(intent)
        left = self.unrefunded(intent)
        amount = int(form.get("amount") or left)
        if left == 0:
            message = f"Charge ch_for_{intent} has already been refunded."
            return 400, {
                "error": {"type": "invalid_request_error", "code": "charge_already_refunded", "message": message}
            }
        if amount > left:
            message = (
                f"Refund amount (${amount / 100:.2f}) is greater than unrefunded amount on charge (${left / 100:.2f})"
            )
            return 400, {"error": {"type": "invalid_request_error", "param": "amount", "message": message}}
        return 200, self.refund({**form, "amount": str(amount)})

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
