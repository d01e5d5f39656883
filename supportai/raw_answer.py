"""HTTP answers daphne writes straight to a connection, instead of reading its request's body
(``supportai/daphne_setup.py``): the connection is closed after them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

JSON = b"application/json"
TEXT = b"text/plain; charset=utf-8"


@dataclass(frozen=True)
class RawAnswer:
    status: bytes  # the status line's code and reason: b"413 Request Entity Too Large"
    content_type: bytes
    body: bytes
    headers: tuple[tuple[bytes, bytes], ...] = ()

    @classmethod
    def json(cls, status: bytes, payload: dict[str, Any], headers: tuple[tuple[bytes, bytes], ...] = ()) -> RawAnswer:
        return cls(status, JSON, json.dumps(payload).encode(), headers)

    @classmethod
    def text(cls, status: bytes, message: str, headers: tuple[tuple[bytes, bytes], ...] = ()) -> RawAnswer:
        return cls(status, TEXT, message.encode(), headers)

    def encode(self) -> bytes:
        head = b"HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n" % (
            self.status,
            self.content_type,
            len(self.body),
        )
        head += b"".join(b"%s: %s\r\n" % header for header in self.headers)
        return head + b"Connection: close\r\n\r\n" + self.body
