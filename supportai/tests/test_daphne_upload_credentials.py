"""A knowledge upload's body larger than ``HTTP_MAX_BODY_BYTES`` is read by daphne only for a request
whose credentials are valid, checked before a byte of the body is read (``supportai/daphne_setup.py``,
``supportai/upload_credentials.py``).

Before, any client could make daphne hold ``KNOWLEDGE_MAX_UPLOAD_REQUEST_BYTES`` (100 MiB) per request
before Django refused it as unauthenticated. Through a real daphne: the refused ones with a raw socket
that keeps sending while it reads, the accepted ones as a client sends them.
"""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import psycopg
import pytest
from django.conf import settings
from rest_framework.exceptions import NotAuthenticated

from knowledge.api_access import NOT_MANAGER as API_NOT_MANAGER
from knowledge.console_access import NOT_MANAGER as CONSOLE_NOT_MANAGER
from knowledge.models import Document
from knowledge.tests.test_upload_batches_daphne import (
    API_UPLOAD,
    CONSOLE_UPLOAD,
    FAKE_EMBEDDINGS,
    api_upload,
    articles,
    console_owner,
    console_upload,
    stored_titles,
)
from supportai.api_keys import api_key_create, api_key_revoke
from supportai.daphne_setup import CHECK_FAILED, CHECK_SECONDS
from supportai.devserver import free_port, start_daphne, stop
from supportai.models import Role, Tenant
from supportai.tests.raw_http import answer_while_sending, post_head, read_to_end, split_answer

DEFAULT_LIMIT = 65_536
pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.daphne_env(**FAKE_EMBEDDINGS, HTTP_MAX_BODY_BYTES=str(DEFAULT_LIMIT)),
]
MULTIPART = "multipart/form-data; boundary=b0undary"
CHUNK = b"x" * 65_536
CHUNKS = 700  # 44 MiB: within the uploads' default 100 MiB, far over what socket buffers hold
FRAMINGS = {
    "declared": (f"Content-Length: {CHUNKS * len(CHUNK)}", CHUNK),
    "chunked": ("Transfer-Encoding: chunked", b"10000\r\n" + CHUNK + b"\r\n"),
}
NO_CREDENTIALS = str(NotAuthenticated.default_detail)
INVALID_KEY = "Invalid or revoked API key."
PHOTO_PDF = 1_000_000  # bytes: a file well over HTTP_MAX_BODY_BYTES


def _refused_before_read(base: str, path: str, extra: str, framing: str) -> tuple[int, bytes, bytes]:
    """The answer to an upload of 44 MiB to ``path`` with ``extra`` headers, which must come before the
    client could send more than its socket buffers hold."""
    line, chunk = FRAMINGS[framing]
    answer, sent = answer_while_sending(base, post_head(base, path, MULTIPART, line, extra), chunk, chunks=CHUNKS)
    assert sent < 100, f"{sent} chunks of 64 KiB were sent before any answer"
    return split_answer(answer)


def _api_refusal(answer: tuple[int, bytes, bytes]) -> str:
    """The ``detail`` of DRF's 401 for a request it could not authenticate, with its challenge."""
    status, head, body = answer
    assert status == 401, answer
    assert b'www-authenticate: bearer realm="api"' in head.lower()
    assert b"content-type: application/json" in head.lower()
    detail: str = json.loads(body)["detail"]
    return detail


def _django_answer(base: str, path: str, extra: str) -> tuple[int, bytes, bytes]:
    """What Django itself answers the same request with a small body (as it did before)."""
    body = b"--b0undary--\r\n"
    answer, _ = answer_while_sending(
        base, post_head(base, path, MULTIPART, f"Content-Length: {len(body)}", extra), body, chunks=1
    )
    return split_answer(answer)


@pytest.mark.parametrize("framing", FRAMINGS)
@pytest.mark.parametrize(
    ("authorization", "detail"),
    [
        ("", NO_CREDENTIALS),
        ("Authorization: Basic YWxpY2U6c2VjcmV0\r\n", NO_CREDENTIALS),
        ("Authorization: Bearer\r\n", "Missing API key after 'Bearer'."),
        ("Authorization: Bearer sai_not-a-key\r\n", INVALID_KEY),
        ("Authorization: Bearer sai_0123abcd_unknownsecret\r\n", INVALID_KEY),
    ],
    ids=["none", "basic", "bearer-without-key", "malformed-key", "unknown-key"],
)
def test_an_api_upload_without_a_valid_key_is_refused_before_its_body_is_read(
    daphne_server: str, framing: str, authorization: str, detail: str
) -> None:
    # when an upload of 44 MiB comes without a valid key
    answer = _refused_before_read(daphne_server, API_UPLOAD, authorization, framing)
    # then it is answered 401 before its body is read, as DRF answers the same request with a small body
    assert _api_refusal(answer) == detail
    assert _api_refusal(_django_answer(daphne_server, API_UPLOAD, authorization)) == detail


@pytest.mark.parametrize("framing", FRAMINGS)
def test_an_api_upload_with_a_revoked_key_is_refused_before_its_body_is_read(
    daphne_server: str, tenant: Tenant, framing: str
) -> None:
    # given
    issued = api_key_create(tenant=tenant, name="old")
    api_key_revoke(tenant=tenant, api_key_id=issued.api_key.pk)
    # when
    answer = _refused_before_read(daphne_server, API_UPLOAD, f"Authorization: Bearer {issued.raw_key}\r\n", framing)
    # then
    assert _api_refusal(answer) == INVALID_KEY
    assert stored_titles(tenant) == []


def test_a_valid_key_uploads_a_large_body_into_its_own_tenant_only(
    daphne_server: str, tenant: Tenant, other_tenant: Tenant
) -> None:
    # given a batch over HTTP_MAX_BODY_BYTES, uploaded with tenant A's key
    files = articles(2, PHOTO_PDF)
    # when
    response = api_upload(daphne_server, tenant, files)
    # then it is stored in tenant A, and tenant B neither has it nor lists it with its own key
    assert response.status_code == 202, response.text[:500]
    assert stored_titles(tenant) == ["article-00", "article-01"]
    assert stored_titles(other_tenant) == []
    other_key = api_key_create(tenant=other_tenant, name="b").raw_key
    listed = httpx.get(f"{daphne_server}{API_UPLOAD}", headers={"Authorization": f"Bearer {other_key}"}, timeout=60)
    assert listed.status_code == 200 and listed.json()["count"] == 0
    assert not Document.objects.for_tenant(other_tenant).exists()


def _one_pdf_upload(base: str, key: str, extra: str = "") -> tuple[str, bytes]:
    """The head (``post_head``'s, with ``extra`` headers) and body of an API upload of a.pdf, over
    ``HTTP_MAX_BODY_BYTES``, with ``key``."""
    request = httpx.Request(
        "POST", f"{base}{API_UPLOAD}", files=[("files", ("a.pdf", articles(1, PHOTO_PDF)[0][1], "application/pdf"))]
    )
    body = request.read()
    framing = f"Content-Length: {len(body)}"
    head = post_head(
        base, API_UPLOAD, request.headers["content-type"], framing, f"Authorization: Bearer {key}\r\n{extra}"
    )
    return head, body


def _connect(base: str) -> socket.socket:
    parts = urlsplit(base)
    return socket.create_connection((parts.hostname, parts.port), timeout=60)


def test_a_valid_key_that_expects_100_continue_is_told_to_continue(daphne_server: str, tenant: Tenant) -> None:
    # given a client that sends its body only once told to continue (curl does, over 1 MiB)
    key = api_key_create(tenant=tenant, name="curl").raw_key
    head, body = _one_pdf_upload(daphne_server, key, "Expect: 100-continue\r\n")
    with _connect(daphne_server) as sock:
        # when it sends the head
        sock.sendall(head.encode())
        # then it is told to continue, and its upload is stored
        assert sock.recv(65_536) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(body)
        answer = read_to_end(sock)
    assert split_answer(answer)[0] == 202, answer[:500]
    assert stored_titles(tenant) == ["a"]


def test_a_key_revoked_once_its_upload_was_let_in_is_refused_by_the_view(daphne_server: str, tenant: Tenant) -> None:
    # given an upload whose key passed the check (told to continue)
    issued = api_key_create(tenant=tenant, name="curl")
    head, body = _one_pdf_upload(daphne_server, issued.raw_key, "Expect: 100-continue\r\n")
    with _connect(daphne_server) as sock:
        sock.sendall(head.encode())
        assert sock.recv(65_536) == b"HTTP/1.1 100 Continue\r\n\r\n"
        # when the key is revoked before the body is sent
        api_key_revoke(tenant=tenant, api_key_id=issued.api_key.pk)
        sock.sendall(body)
        answer = read_to_end(sock)
    # then the view, which authenticates the request itself, refuses it, and nothing is stored
    assert _api_refusal(split_answer(answer)) == INVALID_KEY
    assert stored_titles(tenant) == []


def test_a_request_pipelined_after_a_large_upload_is_answered_too(daphne_server: str, tenant: Tenant) -> None:
    # given an upload with a valid key on a connection kept alive, and a second request sent right behind it
    key = api_key_create(tenant=tenant, name="pipelined").raw_key
    head, body = _one_pdf_upload(daphne_server, key, "Connection: keep-alive\r\n")
    head = head.replace("Connection: close\r\n", "")
    host = urlsplit(daphne_server).netloc
    listing = f"GET {API_UPLOAD} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {key}\r\nConnection: close\r\n\r\n"
    # when both are written at once, before the first one's credentials are checked
    with _connect(daphne_server) as sock:
        sock.sendall(head.encode() + body + listing.encode())
        answer = read_to_end(sock)
    # then the upload is stored, and the second request answered after it, listing it
    first, _, second = answer.partition(b"HTTP/1.1 200 OK\r\n")
    assert split_answer(first)[0] == 202, answer[:500]
    assert second and json.loads(second.partition(b"\r\n\r\n")[2])["count"] == 1, answer[:1000]
    assert stored_titles(tenant) == ["a"]


@pytest.mark.parametrize("framing", FRAMINGS)
@pytest.mark.parametrize(
    "cookie",
    [
        "",
        f"Cookie: {settings.SESSION_COOKIE_NAME}=no-such-session\r\n",
        f'Cookie: {settings.SESSION_COOKIE_NAME}="abcdefgh\\000ijklmnop"\r\n',  # a NUL: never a session
    ],
    ids=["none", "unknown", "nul"],
)
def test_a_console_upload_without_a_session_is_sent_to_log_in_before_its_body_is_read(
    daphne_server: str, framing: str, cookie: str
) -> None:
    # when
    status, head, _ = _refused_before_read(daphne_server, CONSOLE_UPLOAD, cookie, framing)
    # then it is sent to log in, as the console sends a visitor who is not logged in
    assert status == 302
    assert b"location: /console/login/?next=/console/knowledge/" in head.lower()


def _session_cookies(client: httpx.Client) -> str:
    return "Cookie: " + "; ".join(f"{name}={value}" for name, value in client.cookies.items()) + "\r\n"


@pytest.mark.parametrize("framing", FRAMINGS)
def test_an_agent_s_upload_is_refused_before_its_body_is_read(daphne_server: str, tenant: Tenant, framing: str) -> None:
    # given an agent, logged in: a member who may not upload
    with console_owner(daphne_server, tenant, Role.AGENT, "agnes") as client:
        cookies = _session_cookies(client)
        # when the agent uploads 44 MiB through the console, and through the API with the session
        console = _refused_before_read(daphne_server, CONSOLE_UPLOAD, cookies, framing)
        api = _refused_before_read(daphne_server, API_UPLOAD, cookies, framing)
    # then both are refused before the body is read, saying why
    status, head, body = console
    assert (status, body.decode()) == (403, CONSOLE_NOT_MANAGER)
    assert b"content-type: text/plain; charset=utf-8" in head.lower()
    status, head, body = api
    assert (status, json.loads(body)) == (403, {"detail": API_NOT_MANAGER})
    assert stored_titles(tenant) == []


def test_an_owner_s_session_uploads_a_large_body(daphne_server: str, tenant: Tenant, other_tenant: Tenant) -> None:
    # given an owner of tenant A, logged in, and a batch over HTTP_MAX_BODY_BYTES
    files = articles(2, PHOTO_PDF)
    with console_owner(daphne_server, tenant) as client:
        # when it is uploaded through the console, then through the API with the session
        console = console_upload(client, files)
        api = client.post(
            API_UPLOAD,
            files=[("files", ("api.pdf", files[0][1], "application/pdf"))],
            headers={"X-CSRFToken": client.cookies["csrftoken"]},
        )
    # then both are stored in tenant A only
    assert console.status_code == 302, console.text[:500]
    assert api.status_code == 202, api.text[:500]
    assert [file["error"] for file in api.json()["files"]] == [""]
    assert {"article-00", "article-01"} <= set(stored_titles(tenant))
    assert stored_titles(other_tenant) == []


def test_a_client_that_sends_its_whole_upload_before_reading_gets_the_401(daphne_server: str) -> None:
    # given an upload without a key, from a client that reads nothing until it has sent it all (httpx)
    files = articles(3, PHOTO_PDF)
    # when
    response = httpx.post(
        f"{daphne_server}{API_UPLOAD}",
        files=[("files", (name, data, "application/pdf")) for name, data in files],
        timeout=60,
    )
    # then it reads the 401, unread by the server, rather than a reset connection
    assert response.status_code == 401
    assert response.json() == {"detail": NO_CREDENTIALS}


def _held_connections(port: int) -> int:
    """The connections to ``port`` this machine's kernel still holds open on the server's side: set up,
    or closed by the client and not yet by the server (ESTABLISHED, CLOSE_WAIT in /proc/net/tcp)."""
    held = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for row in Path(table).read_text().splitlines()[1:]:
            local, state = row.split()[1], row.split()[3]
            held += int(local.rsplit(":", 1)[1], 16) == port and state in ("01", "08")
    return held


@pytest.mark.parametrize("cookie", ["", f"Cookie: {settings.SESSION_COOKIE_NAME}=no-such-session\r\n"])
def test_clients_gone_while_their_credentials_are_checked_are_let_go(
    test_database_url: str, tenant: Tenant, cookie: str
) -> None:
    # given a daphne of the test's own, whose connections are counted
    env = {"DATABASE_URL": test_database_url, **FAKE_EMBEDDINGS, "HTTP_MAX_BODY_BYTES": str(DEFAULT_LIMIT)}
    process = start_daphne(port := free_port(), env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        # when clients announce uploads (with a session to look up, or none) and go away at once
        for path in [API_UPLOAD, CONSOLE_UPLOAD] * 10:
            with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
                sock.sendall(post_head(base, path, MULTIPART, FRAMINGS["chunked"][0], cookie).encode() + CHUNK)
        # then the server closes each of their connections (within the linger time at most)
        deadline = time.monotonic() + 10
        while _held_connections(port) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _held_connections(port) == 0
        # and still takes an upload with a valid key
        response = api_upload(base, tenant, articles(1, PHOTO_PDF))
        assert response.status_code == 202, response.text[:500]
    finally:
        stop(process)


def test_an_upload_whose_credentials_cannot_be_checked_in_time_is_told_so(
    daphne_server: str, tenant: Tenant, test_database_url: str
) -> None:
    # given an upload with a valid key, and the keys' table locked (our database stuck, or the pool
    # busy) so that its check cannot answer
    head, _ = _one_pdf_upload(daphne_server, api_key_create(tenant=tenant, name="k").raw_key)
    with psycopg.connect(test_database_url) as locker:
        locker.execute("LOCK TABLE supportai_tenantapikey IN ACCESS EXCLUSIVE MODE")
        # when it is sent
        with _connect(daphne_server) as sock:
            sock.sendall(head.encode())
            started = time.monotonic()
            answer = read_to_end(sock)
            waited = time.monotonic() - started
    # then it is answered 503 once the check took CHECK_SECONDS, unread: not closed unanswered
    # a minute later (Twisted's idle timeout)
    status, _, body = split_answer(answer)
    assert (status, json.loads(body)) == (503, {"detail": CHECK_FAILED})
    assert CHECK_SECONDS - 1 < waited < CHECK_SECONDS + 10
    assert stored_titles(tenant) == []


def _checks_waiting_on_the_keys(locker: psycopg.Connection[tuple[int]]) -> int:
    """The queries waiting for the keys' table, which ``locker`` holds locked."""
    row = locker.execute(
        "SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = 'supportai_tenantapikey'::regclass"
    ).fetchone()
    return row[0] if row else 0


@pytest.mark.daphne_env(**FAKE_EMBEDDINGS, HTTP_MAX_BODY_BYTES=str(DEFAULT_LIMIT), DB_ASYNC_THREADS="2")
def test_an_upload_beyond_the_checks_the_pool_may_hold_is_told_at_once_to_retry(
    daphne_server: str, tenant: Tenant, test_database_url: str
) -> None:
    # given a server whose database pool has two threads (so one credential check at a time, leaving chat
    # the other), and an upload whose check is stuck on the keys' table, locked
    key = api_key_create(tenant=tenant, name="k").raw_key
    waiting_head, waiting_body = _one_pdf_upload(daphne_server, key, "Expect: 100-continue\r\n")
    refused_head, _ = _one_pdf_upload(daphne_server, key)
    with psycopg.connect(test_database_url) as locker, _connect(daphne_server) as waiting:
        locker.execute("LOCK TABLE supportai_tenantapikey IN ACCESS EXCLUSIVE MODE")
        waiting.sendall(waiting_head.encode())
        deadline = time.monotonic() + 10
        while not _checks_waiting_on_the_keys(locker) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _checks_waiting_on_the_keys(locker) == 1
        # when a second upload is announced meanwhile
        with _connect(daphne_server) as refused:
            refused.sendall(refused_head.encode())
            started = time.monotonic()
            first_bytes = refused.recv(65_536)
            waited = time.monotonic() - started
            answer = first_bytes + read_to_end(refused)
        # then it is answered 503 at once, unread, and told when to try again; its check never queued
        status, head, body = split_answer(answer)
        assert (status, json.loads(body)) == (503, {"detail": CHECK_FAILED})
        assert b"retry-after: 1\r\n" in head.lower()
        assert waited < CHECK_SECONDS / 2
        assert _checks_waiting_on_the_keys(locker) == 1
        # and once the database answers, the first upload goes on and is stored
        locker.rollback()
        assert waiting.recv(65_536) == b"HTTP/1.1 100 Continue\r\n\r\n"
        waiting.sendall(waiting_body)
        assert split_answer(read_to_end(waiting))[0] == 202
    # and its place is free again: the next upload is let in
    response = api_upload(daphne_server, tenant, articles(1, PHOTO_PDF))
    assert response.status_code == 202, response.text[:500]
    assert stored_titles(tenant) == ["a", "article-00"]
