"""A small website on a local HTTP server: pages, sitemaps and robots.txt that tests edit between syncs.

It answers conditional GETs like a real server (ETag → 304 on ``If-None-Match``, Last-Modified → 304
on ``If-Modified-Since``) and records every request so tests can see what a sync cost.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass
class SitePage:
    body: bytes
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    etag: bool = True
    last_modified: str = ""
    delay_s: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    # Seconds between bytes of the whole answer, status line and headers included (a dribbling server).
    dribble_s: float = 0.0
    # The whole answer, status line and headers included, written as it is (a server that breaks HTTP).
    raw: bytes | None = None


@dataclass(frozen=True)
class SiteRequest:
    path: str
    headers: dict[str, str]
    status: int


@dataclass
class FakeSite:
    url: str = ""
    pages: dict[str, SitePage] = field(default_factory=dict)
    requests: list[SiteRequest] = field(default_factory=list)

    def add(self, path: str, body: str | bytes, **options: object) -> None:
        data = body.encode() if isinstance(body, str) else body
        self.pages[path] = SitePage(data, **options)  # type: ignore[arg-type]

    def article(self, path: str, title: str, text: str, links: tuple[str, ...] = (), head: str = "") -> None:
        anchors = "".join(f'<a href="{escape(link)}">{escape(link)}</a>' for link in links)
        self.add(
            path,
            f"<!doctype html><html><head><title>{escape(title)}</title>{head}</head><body>"
            f"<nav><a href='/'>Home</a></nav><main><h1>{escape(title)}</h1><p>{escape(text)}</p>"
            f"<p>{anchors}</p></main><footer>© Alpha</footer></body></html>",
        )

    def sitemap(self, path: str, paths: list[str], *, index: bool = False) -> None:
        tag, item = ("sitemapindex", "sitemap") if index else ("urlset", "url")
        entries = "".join(f"<{item}><loc>{self.url}{p}</loc></{item}>" for p in paths)
        xml = f'<?xml version="1.0" encoding="UTF-8"?><{tag} xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        self.add(path, f"{xml}{entries}</{tag}>", content_type="application/xml")

    def robots(self, text: str) -> None:
        self.add("/robots.txt", text, content_type="text/plain")

    def served(self, path: str) -> list[int]:
        """Statuses answered for ``path``, in order."""
        return [request.status for request in self.requests if request.path == path]

    def reset(self) -> None:
        self.requests.clear()


@pytest.fixture
def site() -> Iterator[FakeSite]:
    state = FakeSite()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            page = state.pages.get(self.path)
            headers = {key.lower(): value for key, value in self.headers.items()}
            if page is None:
                page = SitePage(b"<html><title>Not found</title></html>", status=404)
            if page.delay_s:
                time.sleep(page.delay_s)
            etag = f'"{hashlib.sha1(page.body).hexdigest()}"' if page.etag else ""
            status = page.status
            if status == 200 and (
                (etag and headers.get("if-none-match") == etag)
                or (page.last_modified and headers.get("if-modified-since") == page.last_modified)
            ):
                status = 304
            state.requests.append(SiteRequest(self.path, headers, status))
            if page.raw is not None:
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(page.raw)
                self.close_connection = True
                return
            if page.dribble_s:
                self._dribble(page, status)
                return
            self.send_response(status)
            body = b"" if status == 304 else page.body
            self.send_header("Content-Type", page.content_type)
            self.send_header("Content-Length", str(len(body)))
            if etag:
                self.send_header("ETag", etag)
            if page.last_modified:
                self.send_header("Last-Modified", page.last_modified)
            for name, value in page.headers.items():
                self.send_header(name, value)
            self.end_headers()
            # The client may have given up already (timeout, size limit).
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(body)

        def _dribble(self, page: SitePage, status: int) -> None:
            head = (
                f"HTTP/1.1 {status} OK\r\nContent-Type: {page.content_type}\r\nContent-Length: {len(page.body)}\r\n\r\n"
            )
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                for byte in head.encode() + page.body:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(page.dribble_s)
            self.close_connection = True

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
