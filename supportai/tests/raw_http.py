"""Requests written byte by byte to a real server, for the tests of bodies it refuses as they arrive."""

from __future__ import annotations

import contextlib
import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit


def answer_while_sending(base_url: str, head: str, chunk: bytes, *, chunks: int) -> tuple[bytes, int]:
    """What the server answers while ``chunks`` chunks of the body are sent after ``head``, and how
    many were sent by then (the socket's own buffers hold some: a few hundred KiB at most)."""
    parts = urlsplit(base_url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(head.encode())
        sock.setblocking(False)
        answer, sent = b"", 0
        deadline = time.monotonic() + 20
        while sent < chunks and not answer and time.monotonic() < deadline:
            try:
                sock.sendall(chunk)
                sent += 1
            except BlockingIOError:
                time.sleep(0.01)
            except (BrokenPipeError, ConnectionResetError):
                break
            with contextlib.suppress(BlockingIOError):
                answer += sock.recv(65_536)
        sock.setblocking(True)
        sock.settimeout(60)  # a first answer may load the embedding model
        while True:  # the rest of the answer, until the server closes
            try:
                data = sock.recv(65_536)
            except (ConnectionResetError, TimeoutError):
                break
            if not data:
                break
            answer += data
    return answer, sent


def post_head(base_url: str, path: str, content_type: str, framing: str, extra: str = "") -> str:
    """The head of a POST to ``path`` whose body is framed by ``framing`` (a length, or chunked)."""
    host = urlsplit(base_url).netloc
    return (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: {content_type}\r\nConnection: close\r\n"
        f"{extra}{framing}\r\n\r\n"
    )


def split_answer(answer: bytes) -> tuple[int, bytes, bytes]:
    """An HTTP answer's status, head and body."""
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), head, body


def send_all_then_read(base_url: str, data: bytes) -> bytes:
    """What the server answers a client that writes all of ``data`` before it reads a byte (as a
    browser's form upload does, without ``Expect: 100-continue``), read until the server closes.
    A reset connection (``ECONNRESET``, ``EPIPE``) raises."""
    parts = urlsplit(base_url)
    with socket.create_connection((parts.hostname, parts.port), timeout=60) as sock:
        sock.sendall(data)
        return read_to_end(sock)


def read_to_end(sock: socket.socket) -> bytes:
    """What ``sock`` receives until the server closes (or shuts down) its side."""
    answer = b""
    while data := sock.recv(65_536):
        answer += data
    return answer


@dataclass(frozen=True)
class CutOff:
    """A client that kept sending after its answer: the answer, and when and after how much the server
    cut the connection (a send or read failed with ``ECONNRESET`` or ``EPIPE``)."""

    answer: bytes
    seconds: float  # from the answer's first byte to the cut
    sent: int  # bytes of body sent after the answer's first byte


def send_until_cut_off(base_url: str, head: str, chunk: bytes, *, pause: float, give_up: float) -> CutOff:
    """Sends ``head``, then ``chunk`` every ``pause`` seconds (or as fast as the socket takes it), and
    reads meanwhile, until the server cuts the connection; fails after ``give_up`` seconds."""
    parts = urlsplit(base_url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(head.encode())
        sock.setblocking(False)
        answer, answered_at, sent = b"", 0.0, 0
        deadline = time.monotonic() + give_up
        while time.monotonic() < deadline:
            try:
                with contextlib.suppress(BlockingIOError):
                    if (data := sock.recv(65_536)) and not answer:
                        answered_at = time.monotonic()
                    answer += data
                with contextlib.suppress(BlockingIOError):
                    count = sock.send(chunk)
                    sent += count if answer else 0
            except (BrokenPipeError, ConnectionResetError):
                assert answer, "the connection was cut before any answer"
                return CutOff(answer, time.monotonic() - answered_at, sent)
            time.sleep(pause)
    raise AssertionError(f"the server did not cut the connection off within {give_up} s ({sent} bytes sent)")
