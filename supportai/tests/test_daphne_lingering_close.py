"""After daphne refuses a body over its path's limit (413, ``Connection: close``), it reads and drops
what the client still sends, for at most ``LINGER_SECONDS`` and ``linger_bytes``, before it closes
(``supportai/daphne_setup.py``), and reads no other request from that connection.

Before, it closed at once: a client still writing its body (a browser's form upload, most HTTP
libraries: no ``Expect: 100-continue``) had the connection reset under it by the server's kernel
(unread data), and saw "connection reset" or a broken pipe instead of the 413. Through a real daphne
and a raw socket.
"""

from __future__ import annotations

import json
import socket
import time
from urllib.parse import urlsplit

import pytest

from supportai.daphne_setup import AUTH_FORM_MAX_BYTES, LINGER_MIN_BYTES, LINGER_SECONDS, linger_bytes
from supportai.tests.raw_http import post_head, read_to_end, send_all_then_read, send_until_cut_off, split_answer

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
PATH = "/api/v1/knowledge/search/"  # HTTP_MAX_BODY_BYTES: 2.5 MiB by default
LIMIT = 2_621_440
BODY = b"x" * 8_388_608
CHUNK = b"x" * 65_536


def _head(base_url: str, framing: str, connection: str = "close") -> bytes:
    head = post_head(base_url, PATH, "application/json", framing)
    return head.replace("Connection: close", f"Connection: {connection}").encode()


def _assert_refusal(answer: bytes) -> None:
    """``answer`` is one whole 413 naming ``PATH``'s limit."""
    status, _, body = split_answer(answer)
    assert status == 413 and answer.count(b"HTTP/1.1") == 1, answer[:300]
    message = json.loads(body)["detail"]
    assert f"{LIMIT:,}-byte" in message, message


@pytest.mark.parametrize("framing", ["Content-Length", "Transfer-Encoding: chunked"])
def test_a_client_that_writes_its_whole_body_before_reading_gets_the_413(daphne_server: str, framing: str) -> None:
    # given a body of 8 MiB to a path of 2.5 MiB, declared or chunked, without "Expect: 100-continue"
    if framing == "Content-Length":
        request = _head(daphne_server, f"Content-Length: {len(BODY)}") + BODY
    else:
        request = _head(daphne_server, framing) + b"%x\r\n%s\r\n0\r\n\r\n" % (len(BODY), BODY)
    # when the client writes all of it, and only then reads
    try:
        answer = send_all_then_read(daphne_server, request)
    except (BrokenPipeError, ConnectionResetError) as exc:
        pytest.fail(f"the connection was cut while the client wrote its body: {exc!r}")
    # then it reads the whole 413
    _assert_refusal(answer)


def test_a_client_that_keeps_sending_slowly_is_cut_off_at_the_linger_time(daphne_server: str) -> None:
    # given a client that sends 64 KiB every 50 ms (~1.3 MB/s: the bytes bound would take over 12 s)
    head = _head(daphne_server, "Content-Length: 500000000").decode()
    # when it keeps sending after the 413
    before_request = time.monotonic()  # the server answers, and starts its linger time, after this
    cut = send_until_cut_off(daphne_server, head, CHUNK, pause=0.05, give_up=LINGER_SECONDS + 20)
    since_request = time.monotonic() - before_request
    # then it has read the 413, and the server cut it off LINGER_SECONDS after it answered: not before
    # LINGER_SECONDS since the request went out (so however late the client saw the 413), and at most 3 s
    # later after the 413 came (the server's timer and the client's next read running late on a loaded
    # machine), long before the bytes bound
    _assert_refusal(cut.answer)
    assert since_request >= LINGER_SECONDS, since_request
    assert cut.seconds <= LINGER_SECONDS + 3, cut.seconds
    assert cut.sent < linger_bytes(LIMIT)


def test_a_client_that_keeps_sending_fast_is_cut_off_after_the_linger_bytes(daphne_server: str) -> None:
    # given a path of 16 KiB, whose linger bound is LINGER_MIN_BYTES
    assert linger_bytes(AUTH_FORM_MAX_BYTES) == LINGER_MIN_BYTES
    head = post_head(daphne_server, "/console/login/", "application/x-www-form-urlencoded", "Content-Length: 500000000")
    # when a client sends as fast as the socket takes it after the 413
    before_request = time.monotonic()  # the server answers, and starts its linger time, after this
    cut = send_until_cut_off(daphne_server, head, CHUNK, pause=0, give_up=LINGER_SECONDS + 20)
    since_request = time.monotonic() - before_request
    # then the server read about LINGER_MIN_BYTES (less what was sent before the answer came, more what
    # the sockets' buffers held), and cut it off before LINGER_SECONDS had passed since the request went
    # out: the bytes bound did, as the linger time cannot cut sooner (however slow a loaded machine)
    assert split_answer(cut.answer)[0] == 413
    assert cut.sent > LINGER_MIN_BYTES // 2, cut.sent
    assert since_request < LINGER_SECONDS, since_request


@pytest.mark.parametrize("when", ["pipelined", "after the answer"])
def test_no_other_request_is_read_from_a_connection_whose_body_was_refused(daphne_server: str, when: str) -> None:
    # given a body just over the limit, on a connection the client asks to keep alive
    over = b"a" * (LIMIT + 1)
    first = _head(daphne_server, f"Content-Length: {len(over)}", connection="keep-alive") + over
    second = f"GET /healthz HTTP/1.1\r\nHost: {urlsplit(daphne_server).netloc}\r\n\r\n".encode()
    # when a second request follows it, in the same write or once the 413 is read
    if when == "pipelined":
        answer = send_all_then_read(daphne_server, first + second)
    else:
        parts = urlsplit(daphne_server)
        with socket.create_connection((parts.hostname, parts.port), timeout=60) as sock:
            sock.sendall(first)
            answer = read_to_end(sock)
            sock.sendall(second)
            answer += read_to_end(sock)
    # then only the first is answered, with its 413
    _assert_refusal(answer)
