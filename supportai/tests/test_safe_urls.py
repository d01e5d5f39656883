"""``http_url``: only absolute http(s) addresses become links, however the scheme is disguised."""

from __future__ import annotations

import pytest
from django.template import Context, Template

from supportai.templatetags.safe_urls import http_url


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://alpha.example.com/hours", "https://alpha.example.com/hours"),
        ("http://alpha.example.com/hours?a=1&b=2#top", "http://alpha.example.com/hours?a=1&b=2#top"),
        ("HTTPS://Alpha.Example.com/", "HTTPS://Alpha.Example.com/"),
        # what a browser strips is stripped from the address returned too
        ("  https://alpha.example.com/ \n", "https://alpha.example.com/"),
        ("\x00\x1fhttps://alpha.example.com/", "https://alpha.example.com/"),
        ("ht\ttp\ns://alpha.example.com/\r", "https://alpha.example.com/"),
    ],
)
def test_http_url_keeps_http_and_https_addresses(value: str, expected: str) -> None:
    assert http_url(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "javascript:alert(document.cookie)",
        "JavaScript:alert(1)",
        " javascript:alert(1)",
        "\x01javascript:alert(1)",
        "java\tscript:alert(1)",
        "java\nscript:alert(1)",
        "java\rscript:alert(1)",
        "jav&#x09;ascript:alert(1)",
        "\u00a0javascript:alert(1)",
        "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
        "vbscript:msgbox(1)",
        "file:///etc/passwd",
        "mailto:help@example.com",
        "//evil.example.com/",
        "/console/knowledge/",
        "hours.html",
        "https:evil.example.com",
        "https:\\\\evil.example.com",
        "https://",
        "http://[::1",
        "",
        "   ",
        None,
        42,
    ],
)
def test_http_url_refuses_everything_else(value: object) -> None:
    assert http_url(value) == ""


def test_http_url_output_is_still_escaped_in_the_attribute() -> None:
    template = Template('{% load safe_urls %}<a href="{{ url|http_url }}">')
    html = template.render(Context({"url": 'https://alpha.example.com/"><script>x</script>'}))
    assert html == '<a href="https://alpha.example.com/&quot;&gt;&lt;script&gt;x&lt;/script&gt;">'
