"""Links off a source (another host, outside its path prefix) are dropped before they are normalised:
a 2 MiB page holds some 100,000 of them, and normalising each cost seconds of CPU per page."""

from __future__ import annotations

import random

import pytest

from knowledge import html_links
from knowledge.html_links import page_links
from knowledge.web_addresses import LinkScope, in_scope, normalize_url

HOST = "help.example.com"
BASE = f"https://{HOST}/help/page"


def _reference_links(html_links: list[str], scope: LinkScope) -> tuple[str, ...]:
    """What page_links gave when it normalised every link and then asked the scope."""
    normalized = (normalize_url(href, BASE) for href in dict.fromkeys(html_links))
    return tuple(dict.fromkeys(link for link in normalized if link and scope.covers(link)))[:1000]


def _html(links: list[str]) -> str:
    return "".join(f'<a href="{link}">x</a>' for link in links)


def test_links_off_the_source_are_dropped_without_being_normalised(monkeypatch: pytest.MonkeyPatch) -> None:
    # given a page of 2,000 links to other hosts and 2,000 to paths outside the prefix, and 2 on it
    off_host = [f"https://elsewhere{n % 7}.example/help/{n}" for n in range(1_000)]
    off_host += [f"//cdn{n}.example/help/{n}" for n in range(1_000)]
    off_prefix = [f"/blog/{n}" for n in range(1_000)] + [f"https://{HOST}/shop/{n}" for n in range(1_000)]
    on = ["/help/a", f"https://{HOST}/help/b"]
    html = _html([*off_host, *off_prefix, *on])
    calls: list[str] = []
    real = html_links.normalize_url

    def counted(url: str, base: str = "") -> str | None:
        calls.append(url)
        return real(url, base)

    monkeypatch.setattr(html_links, "normalize_url", counted)
    # when
    found = page_links(html, BASE, scope=LinkScope(HOST, "/help/"))
    # then the links on the source are found, and only links naming the source's host (the
    # absolute ones outside the prefix) were normalised
    assert found.links == (f"https://{HOST}/help/a", f"https://{HOST}/help/b")
    assert len(calls) <= 1_000 + len(on)


TRICKY = [
    "/help/a",
    "/help",
    "/helpdesk",
    "/help/../blog/x",
    "/blog/../help/x",
    "/blog/%2e%2e/help/y",
    "/h%65lp/z",
    "\\help\\w",
    "\\\\elsewhere.example/help/",
    "/\\elsewhere.example/help/",
    "//HELP.EXAMPLE.COM/help/c",
    "//help.example.com.evil.example/help/",
    "//elsewhere.example/?u=help.example.com",
    "https:/help/d",
    "https:help/e",
    "http:/help.example.com/help/f",
    "http://elsewhere.example/help/",
    "HTTPS://Help.Example.Com/help/g",
    "https://help.example.com:443/help/h",
    "https://help.example.com:8443/help/i",
    "https://user@help.example.com/help/j",
    "https://help.example.com@elsewhere.example/help/k",
    " \t/help/l\n",
    "/hel\tp/m",
    "/help/n?x=/blog",
    "/blog?x=/help/",
    "/help/doc.pdf",
    "help/relative",
    "../help/o",
    "?q=1",
    "#top",
    "mailto:help@example.com",
    "javascript:alert(1)",
    "https://\uff48\uff45\uff4c\uff50.example.com/help/p",
    "https://bücher.example/help/",
    "/help/ü",
    "/help/a b",
    "/help/.hidden",
    "/./help/q",
    "/help/r#frag",
    "//",
    "https://",
    "/help/s:t@u",
]


@pytest.mark.parametrize("prefix", ["", "/help/", "/help", "/hel"])
def test_cheap_rejection_keeps_every_link_normalising_would_keep(prefix: str) -> None:
    scope = LinkScope(HOST, prefix)
    assert page_links(_html(TRICKY), BASE, scope=scope).links == _reference_links(TRICKY, scope)


def test_cheap_rejection_agrees_with_normalising_on_random_references() -> None:
    alphabet = ["/", "\\", ".", "..", "%2e", "%2F", "help", "blog", "h", "?", "#", ":", "@", "//", "https:", HOST, " "]
    generator = random.Random(7)
    scope = LinkScope(HOST, "/help")
    for _ in range(3_000):
        reference = "".join(generator.choice(alphabet) for _ in range(generator.randint(1, 8)))
        if scope.excludes(reference, BASE):
            normalized = normalize_url(reference, BASE)
            assert normalized is None or not in_scope(normalized, host=HOST, path_prefix="/help"), reference
