"""What a hostile website can make the crawler hold or do: its answers are read within fixed bounds."""

from __future__ import annotations

import codecs
import gzip
import socket
import threading
import tracemalloc
import zlib

import pytest

from knowledge.content_coding import CUT_SHORT
from knowledge.crawling import HEADERS_TOO_LARGE, Crawler
from knowledge.fetched_page import FetchError, PageError
from knowledge.models import Document
from knowledge.sitemaps import parse_sitemap
from knowledge.source_config import url_source_create
from knowledge.sources import knowledge_source_sync
from knowledge.tests.site_fake import FakeSite
from supportai.models import Tenant
from supportai.outbound import resolved_addresses

MIB = 1024 * 1024


def _crawler(*, max_bytes: int = MIB) -> Crawler:
    return Crawler(user_agent="SupportAI-KnowledgeBot/1.0", timeout_s=5, max_bytes=max_bytes, allow_private=True)


@pytest.mark.parametrize("encoding", ["gzip", "gzip, gzip", "deflate, gzip"])
def test_a_compression_bomb_is_too_large_before_it_is_unpacked(site: FakeSite, encoding: str) -> None:
    # given a page of 64 MiB of zeros, compressed to a few hundred bytes (or kilobytes) on the wire
    body = bytes(64 * MIB)
    for coding in [part.strip() for part in encoding.split(",")]:
        body = gzip.compress(body) if coding == "gzip" else zlib.compress(body)
    site.add("/help/bomb", body, headers={"Content-Encoding": encoding})
    # when the crawler reads it with a 1 MiB limit
    tracemalloc.start()
    try:
        with _crawler() as crawler, pytest.raises(FetchError) as raised:
            crawler.get(f"{site.url}/help/bomb")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # then it is refused as too large, having held no more than its limit and a little
    assert raised.value.code == PageError.TOO_LARGE
    assert peak < 4 * MIB


def _raw_deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


def _gzip_twice(data: bytes) -> bytes:
    return gzip.compress(gzip.compress(data))


@pytest.mark.parametrize(
    ("encoding", "encode"),
    [
        ("gzip", gzip.compress),
        ("x-gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", _raw_deflate),  # what some servers send as deflate
        ("gzip, gzip", _gzip_twice),
        ("identity", bytes),
    ],
)
def test_a_compressed_page_is_read_whole_in_the_encoding_its_answer_names(site: FakeSite, encoding, encode) -> None:
    # given a page of some 700 KB (many decoding steps) sent compressed
    html = "<html><title>Long</title><main>" + "".join(f"<p>Paragraph {n}.</p>" for n in range(40_000)) + "</main>"
    site.add("/help/long", encode(html.encode()), headers={"Content-Encoding": encoding})
    # when / then
    with _crawler() as crawler:
        page = crawler.get(f"{site.url}/help/long")
    assert page.text() == html
    assert site.requests[-1].headers["accept-encoding"] == "gzip, deflate"


def test_cookies_a_site_sets_are_never_sent_back(site: FakeSite) -> None:
    # given a site that sets a cookie on every answer, as a session would
    site.add("/help/a", "<title>A</title>", headers={"Set-Cookie": "session=tracked; Path=/"})
    site.add("/help/b", "<title>B</title>", headers={"Set-Cookie": "session=tracked; Path=/"})
    # when one crawler (one sync) reads both pages
    with _crawler() as crawler:
        crawler.get(f"{site.url}/help/a")
        crawler.get(f"{site.url}/help/b")
        jar = len(crawler.client.cookies.jar)
    # then every request is made as the first was: no cookie kept, none sent
    assert [request.headers.get("cookie") for request in site.requests] == [None, None]
    assert jar == 0


@pytest.mark.usefixtures("local_crawl")
def test_a_page_gives_its_first_thousand_links_on_the_source_and_no_more(tenant: Tenant, site: FakeSite) -> None:
    # given a start page with 1,500 links off the source, then 1,500 distinct ones on it (a crawl
    # trap serves any number: each would be queued, stored with the page and read again next sync)
    on_source = [f"/help/p{n}" for n in range(1_500)]
    site.article(
        "/help/",
        "Index",
        "All articles.",
        links=(*(f"https://elsewhere.example/{n}" for n in range(1_500)), *on_source),
    )
    config = {"start_url": f"{site.url}/help/", "path_prefix": "/help/", "max_pages": 1}
    source = url_source_create(tenant=tenant, name="Help centre", config=config, sync_now=False)
    # when
    knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # then the page keeps the first 1,000 of its links on the source (those off it take none of them)
    assert Document.objects.get(source=source).links == [f"{site.url}{path}" for path in on_source[:1_000]]


@pytest.mark.parametrize("lead", ["", " \n"])
@pytest.mark.parametrize("kind", ["xml", "plain"])
def test_a_sitemap_is_parsed_without_copies_of_its_text(lead: str, kind: str) -> None:
    # given a 10 MB sitemap with one emoji, which makes Python hold its text at 4 bytes a character
    # (a sitemap may have 50 MB)
    urls = [f"https://help.example.com/{n:05}" for n in range(10_000)]
    filler = (" " * 1_000 + "\n") * 10_000
    if kind == "xml":
        entries = "".join(f"<url><loc>{url}</loc></url>" for url in urls)
        text = (
            f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><!-- \U0001f600 -->{filler}{entries}</urlset>'
        )
    else:
        text = "\n".join(["\U0001f600", filler, *urls])
    body = (lead + text).encode()
    # when
    tracemalloc.start()
    try:
        sitemap = parse_sitemap(body, max_bytes=len(body))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # then its pages are read, holding the text once (decoding it takes some 5 times the file's
    # size) and little more; read from a copy, it took 20 times the file's size: 1 GB for 50 MB
    assert sitemap.pages == tuple(urls)
    assert peak < 6 * len(body)


def test_a_host_name_rebound_to_loopback_after_the_check_is_refused_at_connect_time(
    tenant: Tenant, site: FakeSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a source whose host name resolved to a public address when it was checked, and to our
    # own loopback (the test site) at every lookup after that: DNS rebinding
    port = int(site.url.rsplit(":", 1)[1])
    site.article("/help/", "Internal", "Not for tenants.")
    real_getaddrinfo = socket.getaddrinfo
    lookups: list[str] = []

    def rebinding(host: str, *args: object, **kwargs: object) -> list:
        if host != "help.rebind.test":
            return real_getaddrinfo(host, *args, **kwargs)  # type: ignore[arg-type]
        lookups.append(host)
        address = "93.184.215.14" if len(lookups) == 1 else "127.0.0.1"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    config = {"start_url": f"http://help.rebind.test:{port}/help/"}
    source = url_source_create(tenant=tenant, name="Help centre", config=config, sync_now=False)
    # when it is synced
    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
    # then the crawler looked the name up again, found loopback and connected nowhere
    assert len(lookups) >= 2 and site.requests == []
    assert "non-public address" in result.error and not Document.objects.filter(source=source).exists()


@pytest.mark.usefixtures("local_crawl")
def test_a_name_server_that_stops_answering_holds_one_lookup_thread_and_fails_each_page(
    tenant: Tenant, site: FakeSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a sitemap of 10 pages on a host whose name server answers twice (the sitemap and
    # robots.txt) and then never again; every request of the test site is a new connection
    port = int(site.url.rsplit(":", 1)[1])
    paths = [f"/help/p{n}" for n in range(10)]
    for path in paths:
        site.article(path, path, "Text.")
    site.sitemap("/sitemap.xml", paths)
    site.pages["/sitemap.xml"].body = site.pages["/sitemap.xml"].body.replace(b"127.0.0.1", b"help.silent.test")
    silent, answered, stuck, most_stuck = threading.Event(), [0], [0], [0]
    lock = threading.Lock()

    def resolver(host: str, *args: object, **kwargs: object) -> list:
        if host == "help.silent.test" and answered[0] >= 2:
            with lock:
                stuck[0] += 1
                most_stuck[0] = max(most_stuck[0], stuck[0])
            silent.wait(300)  # until the test ends (it sets `silent`); a cap, should it not
            with lock:
                stuck[0] -= 1
            raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")
        answered[0] += host == "help.silent.test"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    config = {"sitemap_url": f"http://help.silent.test:{port}/sitemap.xml"}
    source = url_source_create(tenant=tenant, name="Help centre", config=config, sync_now=False)
    try:
        # when it is synced
        result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
        # then each page failed with an error that says the name got no answer, to retry later ...
        assert set(result.errors.values()) == {PageError.NETWORK} and len(result.errors) == 10
        errors = set(Document.objects.filter(source=source).values_list("error", flat=True))
        assert len(errors) == 1 and "cannot resolve help.silent.test" in errors.pop()
        # ... while no more than one lookup of the silent name was ever running
        assert most_stuck[0] == 1
        # ... and other names are still looked up at once: answered while the silent lookup still holds its
        # thread (until the test ends), within a timeout it outlasts, so not queued behind it
        assert resolved_addresses("other.test", 80, timeout=20) == ["127.0.0.1"]
        assert stuck[0] == 1
    finally:
        silent.set()


@pytest.mark.parametrize("encoding", ["br", "zstd", "gzip, br", "compress"])
def test_a_page_in_a_content_coding_we_did_not_ask_for_is_malformed_not_read_as_text(
    site: FakeSite, encoding: str
) -> None:
    # given an HTML page whose body is in a coding other than the gzip and deflate we accept
    site.add("/help/packed", b"\x1b\x8f\x00\xf8\x25\x12\x0c\xa7\xd7\x9e" * 50, headers={"Content-Encoding": encoding})
    # when / then it is the page's error, rather than bytes read as text and indexed
    with _crawler() as crawler, pytest.raises(FetchError) as raised:
        crawler.get_html(f"{site.url}/help/packed")
    assert raised.value.code == PageError.MALFORMED
    assert f"{encoding.split(', ')[-1]!r} is not a content coding we accept" in str(raised.value)


@pytest.mark.parametrize("encoding", ["identity", "", "Identity"])
def test_a_page_without_a_content_coding_is_read_as_it_is(site: FakeSite, encoding: str) -> None:
    site.add("/help/plain", "<html><title>Plain</title>Text.</html>", headers={"Content-Encoding": encoding})
    with _crawler() as crawler:
        assert crawler.get_html(f"{site.url}/help/plain").text() == "<html><title>Plain</title>Text.</html>"


def test_an_answer_whose_headers_are_too_large_says_so(site: FakeSite) -> None:
    # given a page whose answer carries 200 KB of headers (a cookie or a header gone wild)
    site.add("/help/a", "<html><title>A</title></html>", headers={"X-Debug": "a" * 200_000})
    # when / then it is the page's lasting error, saying what is wrong, not a failure to connect
    with _crawler() as crawler, pytest.raises(FetchError) as raised:
        crawler.get_html(f"{site.url}/help/a")
    assert raised.value.code == PageError.MALFORMED and not raised.value.transient
    assert str(raised.value) == HEADERS_TOO_LARGE


@pytest.mark.parametrize("lead", [b"\xef\xbb\xbf", b"\xef\xbb\xbf \n", b""])
def test_a_page_without_a_content_type_is_taken_for_html_by_its_start_after_a_byte_order_mark(
    site: FakeSite, lead: bytes
) -> None:
    # given pages served with no Content-Type that start with a doctype, after a UTF-8 byte-order mark
    site.add("/help/a", lead + b"<!DOCTYPE html><title>A</title><p>Text.</p>", content_type="")
    # when / then each is read as HTML
    with _crawler() as crawler:
        assert crawler.get_html(f"{site.url}/help/a").text().endswith("<title>A</title><p>Text.</p>")


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
@pytest.mark.parametrize("start", ["<!DOCTYPE html>", "\n <html>"])
def test_a_page_without_a_content_type_in_utf16_after_its_byte_order_mark_is_read_as_html(
    site: FakeSite, codec: str, start: str
) -> None:
    # given a page served with no Content-Type, in UTF-16 after its byte-order mark (as browsers sniff it)
    bom = codecs.BOM_UTF16_LE if codec == "utf-16-le" else codecs.BOM_UTF16_BE
    site.add("/help/a", bom + f"{start}<title>Grüße</title><p>Text.</p>".encode(codec), content_type="")
    # when / then it is HTML, and its text is decoded as UTF-16
    with _crawler() as crawler:
        assert crawler.get_html(f"{site.url}/help/a").text() == f"{start}<title>Grüße</title><p>Text.</p>"


def test_a_page_without_a_content_type_in_utf16_that_is_not_html_is_refused(site: FakeSite) -> None:
    site.add("/help/a", codecs.BOM_UTF16_LE + "%PDF-1.7 <html>".encode("utf-16-le"), content_type="")
    with _crawler() as crawler, pytest.raises(FetchError) as raised:
        crawler.get_html(f"{site.url}/help/a")
    assert raised.value.code == PageError.NOT_HTML


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        (b"HTTP/1.1 2OO OK\r\nContent-Length: 0\r\n\r\n", "illegal status line"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n", "illegal chunk header"),
        (b"HTTP/1.1 200 OK\r\nContent Type: text/html\r\nContent-Length: 2\r\n\r\nab", "illegal header line"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\nab", "bad Content-Length"),
    ],
)
def test_an_answer_that_is_not_valid_http_is_the_pages_lasting_error_not_a_failure_to_connect(
    site: FakeSite, raw: bytes, shown: str
) -> None:
    # given a server that is reached but answers in broken HTTP
    site.add("/help/a", b"", raw=raw)
    # when / then the page's error says the answer is not valid HTTP, and it is the server's lasting fault
    with _crawler() as crawler, pytest.raises(FetchError) as raised:
        crawler.get_html(f"{site.url}/help/a")
    assert raised.value.code == PageError.MALFORMED and not raised.value.transient
    assert str(raised.value).startswith("The server's answer is not valid HTTP (") and shown in str(raised.value)
    assert "Could not connect" not in str(raised.value)


@pytest.mark.parametrize(
    "raw",
    [
        b"",  # closed before answering
        b"HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\nab",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
    ],
)
def test_an_answer_cut_off_by_the_server_is_a_transient_error_that_says_so(site: FakeSite, raw: bytes) -> None:
    site.add("/help/a", b"", raw=raw)
    with _crawler() as crawler, pytest.raises(FetchError) as raised:
        crawler.get_html(f"{site.url}/help/a")
    assert raised.value.code == PageError.CUT_OFF and raised.value.transient
    assert str(raised.value).startswith("The server closed the connection before its answer was complete (")


@pytest.mark.parametrize(
    ("encoding", "encode"),
    [("gzip", gzip.compress), ("deflate", zlib.compress), ("deflate", _raw_deflate), ("gzip, gzip", _gzip_twice)],
)
def test_a_compressed_answer_closed_before_its_compressed_data_ends_is_cut_off(site: FakeSite, encoding, encode):
    # given a page sent compressed on a close-delimited answer (no Content-Length, not chunked) that
    # the server closes halfway through its compressed data
    html = "<html><title>Long</title><main>" + "".join(f"<p>Paragraph {n}.</p>" for n in range(2_000)) + "</main>"
    packed = encode(html.encode())
    head = f"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: {encoding}\r\nConnection: close\r\n\r\n"
    site.add("/help/a", b"", raw=head.encode() + packed[: len(packed) // 2])
    # when / then it is the transient error of an answer cut off, not the first half of the page stored
    with _crawler() as crawler, pytest.raises(FetchError) as raised:
        crawler.get_html(f"{site.url}/help/a")
    assert raised.value.code == PageError.CUT_OFF and raised.value.transient
    assert f"({CUT_SHORT})" in str(raised.value)


def test_robots_txt_read_only_to_its_limit_needs_no_end_of_its_compressed_data(site: FakeSite) -> None:
    # given a gzipped robots.txt far longer than what is read of it, cut short after that part
    rules = "User-agent: *\nDisallow: /private\n" + "".join(f"Disallow: /x{n}\n" for n in range(200_000))
    packed = gzip.compress(rules.encode())
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Encoding: gzip\r\nConnection: close\r\n\r\n"
    site.add("/robots.txt", b"", raw=head + packed[: len(packed) // 2])
    # when / then its first part is read (the crawler stops there on purpose) and its rules hold
    with _crawler() as crawler:
        assert not crawler.allowed(f"{site.url}/private")
        assert crawler.allowed(f"{site.url}/help/")


def test_a_not_modified_answer_naming_a_content_coding_has_no_compressed_data_to_end(site: FakeSite) -> None:
    # given a page whose answers, its empty 304 included, name gzip (as servers send it on a 304)
    site.add("/help/a", gzip.compress(b"<html><title>A</title>Text.</html>"), headers={"Content-Encoding": "gzip"})
    with _crawler() as crawler:
        etag = crawler.get_html(f"{site.url}/help/a").etag
        # when it is asked again with its validator / then it is not modified, not cut off
        assert crawler.get_html(f"{site.url}/help/a", etag=etag).not_modified
