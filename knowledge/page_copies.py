"""Which address keeps an article that a website serves under several (one sync's bookkeeping).

A page whose title and text equal another page's is the same article under a second address
(``/a`` and ``/a/``, a sort parameter, a print view): one document keeps it. The address that
already holds it from earlier syncs keeps it, so that a sitemap or a page listing the copies in
another order does not delete one document and create another; failing that, the first address
read in the sync. A new address waits, unstaged, while the stored copy may still be read; if it
is not (gone from the site, or failing), the new address keeps the article after all.
"""

from __future__ import annotations

import hashlib
from collections.abc import Container, Iterable
from typing import Generic, TypeVar

Entry = TypeVar("Entry")


def text_digest(title: str, text: str) -> str:
    """What two copies of an article share: the MD5 of title, U+001F and text (as PostgreSQL's
    ``md5(title || chr(31) || content)`` computes it for stored documents)."""
    return hashlib.md5(f"{title}\x1f{text}".encode(), usedforsecurity=False).hexdigest()


class PageCopies(Generic[Entry]):
    """The address keeping each text in one sync, given ``stored``: text digest → the addresses
    whose stored documents have it (several where copies were stored before this bookkeeping)."""

    def __init__(self, stored: dict[str, set[str]]) -> None:
        self.stored = stored
        self.holders: dict[str, str] = {}  # digest -> the address keeping it in this sync
        self.waiting: dict[str, Entry] = {}  # digest -> a new address's page, while the stored copy may come
        self.copies: dict[str, list[str]] = {}  # holder -> the addresses it displaced

    def claim(self, url: str, digest: str, entry: Entry | None, *, visited: Container[str]) -> tuple[Entry | None, str]:
        """``url`` gave the text ``digest``; ``entry`` is its page to store (None when it was not
        modified). Returns what to store now (``entry``, or None while it waits or when ``url`` is a
        duplicate) and the address that has just become a duplicate ("" if none): ``url`` itself,
        or the new address the stored copy displaces."""
        holder, stored = self.holders.get(digest), self.stored.get(digest, set())
        if holder == url:  # claimed again (a page kept after an error, then read): it keeps its article
            return entry, ""
        if holder is None:
            self.holders[digest] = url
            if entry is not None and url not in stored and any(address not in visited for address in stored):
                self.waiting[digest] = entry
                return None, ""
            return entry, ""
        if url in stored and holder not in stored:  # a stored copy, read after a new address with its text
            self.waiting.pop(digest, None)
            self.holders[digest] = url
            self.copies[url] = [*self.copies.pop(holder, []), holder]
            return entry, holder
        self.copies.setdefault(holder, []).append(url)
        return None, url

    def unclaimed(self) -> list[Entry]:
        """Pages still waiting for a stored copy that was not read in this sync: they keep their
        article after all."""
        entries, self.waiting = list(self.waiting.values()), {}
        return entries

    def copies_of(self, addresses: Iterable[str]) -> set[str]:
        """The duplicates of ``addresses`` (those that failed: a duplicate's stored text may then be
        the only searchable copy, so it is kept)."""
        return {copy for address in addresses for copy in self.copies.get(address, [])}
