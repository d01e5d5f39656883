"""The upload parser's delimiter count and closing delimiter, whatever the reads cut the body into."""

from __future__ import annotations

import io

import pytest

from knowledge.multipart import _DelimiterCounter

BODY = b"--B0undary\r\nx\r\n--B0undary\r\n--B0undar\r\n--B0undary--\r\n"


@pytest.mark.parametrize("size", [1, 2, 3, 9, 10, 11, 17, len(BODY), -1])
def test_delimiters_split_across_reads_are_counted_once(size: int) -> None:
    counter = _DelimiterCounter(io.BytesIO(BODY), b"--B0undary")
    read = b""
    while chunk := counter.read(size):
        read += chunk
    assert read == BODY
    assert counter.count == 3
    assert counter.closed


@pytest.mark.parametrize("size", [1, 2, 11, 12, -1])
def test_a_body_without_its_closing_delimiter_is_not_closed(size: int) -> None:
    # given a body cut just before the closing delimiter's "--"
    counter = _DelimiterCounter(io.BytesIO(BODY.removesuffix(b"--\r\n")), b"--B0undary")
    # when
    while counter.read(size):
        pass
    # then
    assert (counter.count, counter.closed) == (3, False)
