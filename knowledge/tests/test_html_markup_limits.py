"""HTML whose markup would take Python's parser tens of seconds (10 MB of '<', a million nested tags, a
tag of millions of attributes) is refused at once, file by file, instead of holding the request."""

from __future__ import annotations

import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from knowledge.models import Document
from knowledge.parsed import ErrorCode, ParseError
from knowledge.parsing import (
    HTML_ATTRIBUTE_LIMIT,
    HTML_MARKUP_LIMIT,
    HTML_TOO_MANY_ATTRIBUTES,
    HTML_TOO_MUCH_MARKUP,
    parse_file,
)
from supportai.models import Tenant
from supportai.tests.factories import api_client

MB = 1024 * 1024


def _refused(data: bytes) -> tuple[ParseError, float]:
    started = time.perf_counter()
    with pytest.raises(ParseError) as refused:
        parse_file("page.html", data, max_bytes=20 * MB)
    return refused.value, time.perf_counter() - started


@pytest.mark.parametrize(
    "data",
    [
        b"<" * (10 * MB),
        b"<div>" * (2 * MB),
        b"<b><i>x" * (MB + MB // 2),
        b"<p>" + b"&x " * (3 * MB),
    ],
    ids=["10 MB of <", "nested divs", "nested inline tags", "character references"],
)
def test_markup_this_dense_is_refused_before_it_is_parsed(data: bytes) -> None:
    # when
    error, seconds = _refused(data)
    # then (each of these took 9-20 s to parse; counting takes milliseconds)
    assert error.code == ErrorCode.TOO_LARGE
    assert str(error).startswith("The page holds more than 300,000 tags and character references")
    assert seconds < 2


def test_a_tag_of_millions_of_attributes_is_refused() -> None:
    # given one start tag of 5 million attributes (14 s to parse), whose page has a single "<"
    data = b"<a" + b" b" * (5 * MB) + b">Parking"
    # when
    error, _ = _refused(data)
    # then it is refused before its attributes are read (finding where the tag ends still takes the
    # standard library's regular expression a few seconds)
    assert error.code == ErrorCode.TOO_LARGE
    assert str(error) == HTML_TOO_MANY_ATTRIBUTES.format(limit="500,000")


def test_pages_under_the_limits_are_read() -> None:
    # given a page of as many tags as the limit allows, and a tag holding a large inline image
    paragraphs = b"<p>Free parking behind the studio.</p>" * (HTML_MARKUP_LIMIT // 2 - 4)
    image = b'<img alt="map of the car park" src="data:image/png;base64,' + b"iVBORw0KGgo" * 100_000 + b'">'
    attributes = b"<a" + b" b" * (HTML_ATTRIBUTE_LIMIT - 100) + b">Valet</a>"
    # when
    [page] = parse_file("page.html", b"<main>" + paragraphs + image + attributes + b"</main>", max_bytes=20 * MB)
    # then
    assert page.text.startswith("Free parking behind the studio.") and page.text.endswith("Valet")


def test_an_upload_refuses_such_a_page_and_stores_the_others(tenant: Tenant, other_tenant: Tenant) -> None:
    # given
    files = [
        SimpleUploadedFile("bomb.html", b"<div>" * (2 * MB)),
        SimpleUploadedFile("parking.md", b"# Parking\n\nFree parking behind the studio."),
    ]
    # when
    response = api_client(tenant).post("/api/v1/knowledge/documents/", {"files": files}, format="multipart")
    # then
    assert response.status_code == 202
    bomb, parking = response.json()["files"]
    assert bomb["error_code"] == "too_large" and bomb["error"] == HTML_TOO_MUCH_MARKUP.format(limit="300,000")
    assert parking["error"] == "" and [d["outcome"] for d in parking["documents"]] == ["created"]
    assert list(Document.objects.for_tenant(tenant).values_list("title", flat=True)) == ["Parking"]
    assert not Document.objects.for_tenant(other_tenant).exists()
