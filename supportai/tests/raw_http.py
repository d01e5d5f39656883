"""Requests written byte by byte to a real server, for the tests of bodies it refuses as they arrive."""

from __future__ import annotations

import contextlib
import socket
import time
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
