"""A response body's Content-Encoding undone a bounded piece at a time.

httpx decodes each chunk it reads in one call: some 60 KB of gzipped zeros unpack to 64 MB, and the
same gzipped again (``Content-Encoding: gzip, gzip``) to gigabytes, before a size limit sees any of
it. Here each coding gives at most ``STEP`` bytes at a time, so a reader that stops at its limit
has held no more than the limit and a step per coding. The codings are httpx's (``gzip``,
``x-gzip``, ``deflate``, zlib-wrapped or raw, and ``identity``); any other is an error, where httpx
would hand its bytes on undecoded.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator
from itertools import chain

STEP = 64 * 1024
ACCEPTED = "gzip, deflate"  # what we ask for: what ``decoded`` undoes
_GZIP_WBITS = zlib.MAX_WBITS | 16


class ContentDecodingError(Exception):
    """The body is not in the Content-Encoding its answer names."""


class ContentCutShort(ContentDecodingError):
    """The body ended before its compressed data did: an answer closed early (one that ends when
    the connection does, with no length to tell it was cut) would otherwise read as a shorter one."""


CUT_SHORT = "the body ended before its compressed data did"


def _inflated(chunks: Iterable[bytes], wbits: int) -> Iterator[bytes]:
    """The decompressed data of ``chunks``, ``STEP`` bytes at most at a time; what follows the end
    of the compressed data is not read (as httpx ignores it). Raises ``ContentCutShort`` when the
    chunks run out before the compressed data ends (an empty body, as a 304's, is no data to end);
    a reader that stops early on purpose never gets there."""
    decompressor = zlib.decompressobj(wbits)
    fed = False
    for chunk in chunks:
        fed = fed or bool(chunk)
        data = chunk
        while True:
            try:
                out = decompressor.decompress(data, STEP)
            except zlib.error as exc:
                raise ContentDecodingError(str(exc)) from exc
            if out:
                yield out
            if decompressor.eof:
                return
            data = decompressor.unconsumed_tail
            # A full step may leave output of input already taken in (a long run of repeats).
            if not data and len(out) < STEP:
                break
    if fed:
        raise ContentCutShort(CUT_SHORT)


def _deflated(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """``deflate`` is zlib-wrapped data (RFC 9110 §8.4.1.2), or raw deflate as some servers send it."""
    head = b""
    for chunk in chunks:
        head += chunk
        if len(head) >= 2:
            break
    zlib_header = len(head) >= 2 and head[0] & 0x0F == 8 and int.from_bytes(head[:2], "big") % 31 == 0
    yield from _inflated(chain([head], chunks), zlib.MAX_WBITS if zlib_header else -zlib.MAX_WBITS)


UNACCEPTED = "{coding!r} is not a content coding we accept ({accepted})"


def decoded(chunks: Iterable[bytes], codings: list[str]) -> Iterator[bytes]:
    """The body whose raw ``chunks`` are in ``codings`` (a Content-Encoding header's values, in the
    order they were applied), decoded lazily. Raises ``ContentDecodingError`` at once for a coding
    we do not accept (``br``, ``zstd``, ...: a server's choice we did not ask for, whose bytes read
    as text would be indexed as gibberish), and while iterating for data not in its coding
    (``ContentCutShort`` for data that ends too soon)."""
    body: Iterator[bytes] = iter(chunks)
    for coding in (value.strip().lower() for value in reversed(codings)):
        if coding in {"gzip", "x-gzip"}:
            body = _inflated(body, _GZIP_WBITS)
        elif coding == "deflate":
            body = _deflated(body)
        elif coding not in {"identity", ""}:
            raise ContentDecodingError(UNACCEPTED.format(coding=coding, accepted=ACCEPTED))
    return body
