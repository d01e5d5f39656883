"""Bodies over the limit of the Stripe webhook, the sign-in forms, the knowledge uploads and, on every
other path, HTTP_MAX_BODY_BYTES are refused by daphne as they arrive (``supportai/daphne_setup.py``),
as the public chat endpoints' are.

Twisted reads a request's whole body (in memory, then a temporary file) and daphne hands it on in
memory before Django sees any of it: before, a client could make the server hold a body of any size
on these paths, unauthenticated, before a view or Django's own size guard refused it. Through a real
daphne and a raw socket.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from supportai.tests.raw_http import answer_while_sending, post_head, split_answer

# The knowledge uploads' limit is KNOWLEDGE_MAX_UPLOAD_REQUEST_BYTES: its smallest (a file's smallest
# limit and the form's 256 KiB), so a chunked body passes the limit within a few chunks.
UPLOAD_LIMIT = 1024 + 262_144
# The default limit of other paths: its smallest.
OTHER_LIMIT = 65_536
pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.daphne_env(
        KNOWLEDGE_MAX_UPLOAD_BYTES="1024",
        KNOWLEDGE_MAX_UPLOAD_REQUEST_BYTES=str(UPLOAD_LIMIT),
        HTTP_MAX_BODY_BYTES=str(OTHER_LIMIT),
    ),
]
CHUNK = b"x" * 65_536
FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data; boundary=b0undary"


@dataclass(frozen=True)
class Endpoint:
    path: str
    content_type: str
    limit: int  # bytes, as README states them
    answer: str  # the 413's body: "stripe" ({"error"}), "api" ({"detail"}) or "text" (plain)
    within: tuple[int, ...] = (302, 400, 401, 403, 503)  # what the endpoint answers a body of the limit
    # an upload path: what a chunked body without credentials gets, before it is read (a declared one
    # over the limit is told the limit first; supportai/tests/test_daphne_upload_credentials.py)
    anonymous: int | None = None


ENDPOINTS = [
    Endpoint("/webhooks/stripe/", "application/json", 1_048_576, "stripe"),
    Endpoint("/console/login/", FORM, 16_384, "text"),
    Endpoint("/console/logout/", FORM, 16_384, "text"),
    Endpoint("/admin/login/", FORM, 16_384, "text"),
    Endpoint("/admin/auth/user/1/password/", FORM, 16_384, "text"),  # an admin sets another user's password
    Endpoint("/api/v1/knowledge/documents/", MULTIPART, UPLOAD_LIMIT, "api", (401,), anonymous=401),
    Endpoint("/console/knowledge/", MULTIPART, UPLOAD_LIMIT, "text", (302,), anonymous=302),
    # every other path: HTTP_MAX_BODY_BYTES, JSON under /api/, plain text elsewhere
    Endpoint("/healthz", FORM, OTHER_LIMIT, "text", (403, 405)),
    Endpoint("/no/such/page/", FORM, OTHER_LIMIT, "text", (403, 404)),
    Endpoint("/api/v1/knowledge/search/", "application/json", OTHER_LIMIT, "api", (401,)),
    Endpoint("/api/v1/knowledge/sources/", "application/json", OTHER_LIMIT, "api", (401,)),
    Endpoint("/api/v1/no-such-endpoint/", "application/json", OTHER_LIMIT, "api", (403, 404)),
    Endpoint("/admin/knowledge/document/", FORM, OTHER_LIMIT, "text", (302, 403)),
    Endpoint("/console/switch-tenant/", FORM, OTHER_LIMIT, "text", (302, 403)),
]


def _refusal(answer: bytes, endpoint: Endpoint) -> str:
    """The message of the 413 ``answer`` (one answer, in the endpoint's form), or fails."""
    status, head, body = split_answer(answer)
    assert status == 413, answer[:300]
    assert answer.count(b"HTTP/1.1") == 1 and b"connection: close" in head.lower()
    if endpoint.answer == "text":
        assert b"content-type: text/plain; charset=utf-8" in head.lower()
        message = body.decode()
    else:
        assert b"content-type: application/json" in head.lower()
        message = json.loads(body)["error" if endpoint.answer == "stripe" else "detail"]
    assert f"{endpoint.limit:,}-byte" in message, message
    return message


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=[endpoint.path for endpoint in ENDPOINTS])
def test_a_body_over_the_endpoints_limit_is_refused_as_it_arrives(daphne_server: str, endpoint: Endpoint) -> None:
    def head(framing: str, path: str = endpoint.path, extra: str = "") -> str:
        return post_head(daphne_server, path, endpoint.content_type, framing, extra)

    # when a client declares a body far over the limit, or sends one chunked (up to 50 MB of it)
    for framing, chunk in [
        ("Content-Length: 500000000", CHUNK),
        ("Transfer-Encoding: chunked", b"10000\r\n" + CHUNK + b"\r\n"),
    ]:
        answer, sent = answer_while_sending(daphne_server, head(framing), chunk, chunks=800)
        # then the server answers 413 long before it is all sent (an upload without credentials sent
        # chunked: at once, as the upload does), and closes
        assert sent < 100, f"{framing}: {sent} chunks of 64 KiB were sent before any answer"
        if endpoint.anonymous is not None and framing.startswith("Transfer-Encoding"):
            assert split_answer(answer)[0] == endpoint.anonymous, answer[:300]
        else:
            _refusal(answer, endpoint)
    # and a body of the limit reaches the endpoint (refused there as unsigned, unauthenticated or
    # without its CSRF token; an upload's, without credentials, before it is read), one byte more is
    # refused without reaching it
    within = b"a" * endpoint.limit
    answer, _ = answer_while_sending(daphne_server, head(f"Content-Length: {len(within)}"), within, chunks=1)
    assert split_answer(answer)[0] in endpoint.within, answer[:300]
    over = within + b"a"
    _refusal(answer_while_sending(daphne_server, head(f"Content-Length: {len(over)}"), over, chunks=1)[0], endpoint)
    # and a root path the client names does not take a body past the limit
    rooted = head("Content-Length: 500000000", f"/shop{endpoint.path}", "Daphne-Root-Path: /shop\r\n")
    _refusal(answer_while_sending(daphne_server, rooted, CHUNK, chunks=800)[0], endpoint)


@pytest.mark.daphne_env
def test_other_paths_take_a_body_of_django_s_form_limit_by_default(daphne_server: str) -> None:
    # given HTTP_MAX_BODY_BYTES unset: 2.5 MiB, DATA_UPLOAD_MAX_MEMORY_SIZE, the largest form Django reads
    endpoint = Endpoint("/api/v1/knowledge/search/", "application/json", 2_621_440, "api", (401,))
    for size, refused in [(2_621_440, False), (2_621_441, True)]:
        head = post_head(daphne_server, endpoint.path, endpoint.content_type, f"Content-Length: {size}")
        # when
        answer, _ = answer_while_sending(daphne_server, head, b"a" * size, chunks=1)
        # then
        if refused:
            _refusal(answer, endpoint)
        else:
            assert split_answer(answer)[0] == 401, answer[:300]
