"""The pages a breadth-first crawl still has to read.

A page gives up to ``MAX_LINKS_PER_PAGE`` links, and a crawl trap a new thousand on every page: queued
as found, a sync of ``max_pages`` pages could hold ``max_pages`` times 1,000 addresses (some 150 MB at
the ceiling) of which it reads at most ``max_pages``. The frontier keeps only what could still be
read, plus one page's worth of links for addresses that turn out not to count (disallowed by a
robots.txt not read yet, or read earlier by way of a redirect; links a robots.txt already read
disallows are counted and dropped before they reach it, ``site_sync.SiteSync.followable``), so the order and the
pages read stay those of an unbounded queue in every crawl but one where more than a page's worth of
such addresses stand ahead.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Collection, Iterable

from knowledge.html_links import MAX_LINKS_PER_PAGE


class Frontier:
    """A breadth-first queue of ``(url, depth)``; each address enters it once."""

    def __init__(self, start: str, *, slack: int = MAX_LINKS_PER_PAGE) -> None:
        self._queue: deque[tuple[str, int]] = deque([(start, 0)])
        self._seen = {start}
        self._slack = slack

    def __len__(self) -> int:
        return len(self._queue)

    def pop(self) -> tuple[str, int] | None:
        """The next address to read and its depth, or None when there is none."""
        return self._queue.popleft() if self._queue else None

    def add(self, links: Iterable[str], *, depth: int, room: int, read: Collection[str] = ()) -> None:
        """Queue ``links`` found at ``depth`` that are neither queued before nor in ``read``, while
        the queue holds fewer than ``room`` (the pages the sync may still read) and the slack; the
        rest are not stored (later links come after them, so none of them is needed sooner)."""
        limit = max(room, 0) + self._slack
        for link in links:
            if len(self._queue) >= limit:
                return
            if link not in self._seen and link not in read:
                self._seen.add(link)
                self._queue.append((link, depth))
