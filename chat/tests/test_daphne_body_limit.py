"""A public chat endpoint's body over its 16 KiB is refused by the server as it arrives.

Twisted, under daphne, reads a request's whole body (in memory, then a temporary file) before the
application sees any of it; the view's ``413 too_long`` came only once the client had sent it all,
so one client could make the server store a body of any size. Through a real daphne and a raw socket.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from chat.tests.urls_under_test import MESSAGES
from supportai.tests.factories import TenantFactory
from supportai.tests.raw_http import answer_while_sending, post_head, split_answer

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
CHUNK = b"x" * 65_536


def _head(base_url: str, framing: str, path: str = MESSAGES, extra: str = "") -> str:
    return post_head(base_url, path, "application/json", framing, extra)


def _status_and_body(answer: bytes) -> tuple[int, dict[str, Any]]:
    status, _, body = split_answer(answer)
    return status, json.loads(body)


@pytest.mark.parametrize(
    ("framing", "chunk"),
    [
        ("Content-Length: 500000000", CHUNK),  # declared larger: refused before a byte of it is read
        ("Transfer-Encoding: chunked", b"10000\r\n" + CHUNK + b"\r\n"),  # refused once 16 KiB arrived
    ],
)
def test_a_body_of_any_size_is_refused_before_the_client_has_sent_it(
    daphne_server: str, framing: str, chunk: bytes
) -> None:
    # when a client sends a body far over the limit (up to 50 MB of it)
    answer, sent = answer_while_sending(daphne_server, _head(daphne_server, framing), chunk, chunks=800)
    # then the server answers the protocol's too_long long before it is all sent
    assert sent < 100, f"{sent} chunks of 64 KiB were sent before any answer"
    status, body = _status_and_body(answer)
    assert status == 413
    assert body["type"] == "error" and body["code"] == "too_long" and body["message"]


def test_a_body_within_the_limit_is_answered_by_the_endpoint(daphne_server: str) -> None:
    tenant = TenantFactory.create(allowed_origins=["https://shop.example.com"])
    payload = json.dumps({"key": tenant.public_key, "client_id": "b-1", "text": "é" * 2000}).encode()
    assert 4_000 < len(payload) <= 16_384
    head = _head(daphne_server, f"Content-Length: {len(payload)}")
    answer, _ = answer_while_sending(daphne_server, head, payload, chunks=1)
    status, body = _status_and_body(answer)
    assert status == 200 and body["answer"]["type"] == "message.end"


@pytest.mark.parametrize("path", [MESSAGES, "/api/v1/%70ublic/chat/escalate?x=1"])  # as Django reads it, decoded
def test_a_body_just_over_the_limit_sent_at_once_gets_one_answer_and_reaches_no_view(
    daphne_server: str, path: str
) -> None:
    body = json.dumps({"key": "pk_nope", "text": "x" * 16_400}).encode()
    head = _head(daphne_server, f"Content-Length: {len(body)}", path)
    answer, _ = answer_while_sending(daphne_server, head, body, chunks=1)
    status, error = _status_and_body(answer)
    assert status == 413 and error["code"] == "too_long"
    assert answer.count(b"HTTP/1.1") == 1


ROOT_PATH = "Daphne-Root-Path: /shop%2Fchat\r\n"  # any client may send it: daphne passes it to Django as root_path


def test_a_root_path_header_does_not_take_a_public_body_past_the_limit(daphne_server: str) -> None:
    # given a request Django routes to a public endpoint only once it strips the root path the client names
    tenant = TenantFactory.create(allowed_origins=["https://shop.example.com"])
    payload = json.dumps({"key": tenant.public_key, "client_id": "b-1", "text": "hello"}).encode()
    head = _head(daphne_server, f"Content-Length: {len(payload)}", f"/shop/chat{MESSAGES}", ROOT_PATH)
    status, body = _status_and_body(answer_while_sending(daphne_server, head, payload, chunks=1)[0])
    assert status == 200 and body["answer"]["type"] == "message.end"
    # when such a request declares a body far over the limit
    head = _head(daphne_server, "Content-Length: 500000000", f"/shop/chat{MESSAGES}", ROOT_PATH)
    answer, sent = answer_while_sending(daphne_server, head, CHUNK, chunks=800)
    # then it is refused as it arrives, as without the header
    assert sent < 100, f"{sent} chunks of 64 KiB were sent before any answer"
    status, body = _status_and_body(answer)
    assert status == 413 and body["code"] == "too_long"


@pytest.mark.parametrize(
    ("framing", "chunk", "language", "message"),
    [
        (
            "Content-Length: 500000000",
            CHUNK,
            "de-CH, de;q=0.9, en;q=0.5",
            "Der Anfragetext ist auf 16384 Bytes UTF-8 begrenzt, wie ein Websocket-Frame.",
        ),
        (
            "Transfer-Encoding: chunked",
            b"10000\r\n" + CHUNK + b"\r\n",
            "en;q=0.2, ja",
            "リクエスト本文は、WebSocketのフレームと同じくUTF-8で16384バイトまでです。",
        ),
    ],
)
def test_a_body_refused_as_it_arrives_is_refused_in_the_accept_language(
    daphne_server: str, framing: str, chunk: bytes, language: str, message: str
) -> None:
    # when a browser asking for German (or Japanese) sends a body far over the limit
    head = _head(daphne_server, framing, extra=f"Accept-Language: {language}\r\n")
    answer, _ = answer_while_sending(daphne_server, head, chunk, chunks=800)
    # then daphne's too_long is in that language, as the view's would be
    assert _status_and_body(answer) == (413, {"type": "error", "code": "too_long", "message": message})
