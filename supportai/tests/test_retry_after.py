"""The one reader of an HTTP answer's ``Retry-After`` (supportai/retry_after.py), for every outbound
caller; each caller's own test shows it reads its answers through it, with its cap."""

from __future__ import annotations

import email.utils
import time

import httpx
import pytest

from supportai.retry_after import retry_after_seconds

CAP = 300.0


@pytest.mark.parametrize(
    ("headers", "wait"),
    [
        ({"retry-after-ms": "1500"}, 1.5),
        ({"retry-after-ms": "1500", "retry-after": "2"}, 1.5),  # the precise one first
        ({"retry-after": "7"}, 7.0),
        ({"retry-after": "1.5"}, 1.5),  # fractions accepted
        ({"Retry-After": " 15 "}, 15.0),  # any case, spaces around
        ({"retry-after": "0"}, 0.0),
        ({"retry-after": "0" * 5000}, 0.0),
        ({"retry-after": "86400"}, CAP),  # capped
        ({"retry-after": "9" * 5000}, CAP),  # more digits than int() reads
        ({"retry-after-ms": "soon", "retry-after": "4"}, 4.0),  # junk skipped, the next one read
        ({}, None),
        ({"retry-after": ""}, None),
        ({"retry-after": "soon"}, None),
        ({"retry-after": "-5"}, None),
        ({"retry-after-ms": "-1500"}, None),
        ({"retry-after-ms": "nan"}, None),
        ({"retry-after": "inf"}, None),
        ({"retry-after": "1e3"}, None),  # not how HTTP writes seconds
        ({"retry-after": "\u00b2"}, None),  # a digit to str.isdigit(), not to HTTP
        ({"retry-after": "\u0663"}, None),  # an Arabic-Indic three, which float() would read
        ({"retry-after": "Sun, 06 Dec 2020 15:00:00 GMT"}, None),  # a date gone by
        ({"retry-after": "Sun, 06 Dec 99999 15:00:00 GMT"}, None),  # dates no clock reads
        ({"retry-after": "Sun, 06 Dec 9999999999 15:00:00 GMT"}, None),
    ],
)
def test_retry_after_seconds_reads_the_wait_asked_for(headers, wait):
    assert retry_after_seconds(headers, cap=CAP) == wait


@pytest.mark.parametrize(("ahead", "cap", "wait"), [(30, CAP, (27, 30)), (3600, CAP, (CAP, CAP))])
def test_retry_after_seconds_reads_an_http_date_as_the_time_left_capped(ahead, cap, wait):
    date = email.utils.formatdate(time.time() + ahead, usegmt=True)

    waited = retry_after_seconds({"retry-after": date}, cap=cap)

    assert waited is not None and wait[0] <= waited <= wait[1]


def test_retry_after_seconds_reads_httpx_headers_whatever_their_case():
    headers = httpx.Headers({"Retry-After-Ms": "250", "X-Other": "1"})

    assert retry_after_seconds(headers, cap=CAP) == 0.25
