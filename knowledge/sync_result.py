"""What a URL source's sync did (``SyncResult``): its counts, its summary, and what a stopped sync had changed."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field

from django.template.defaultfilters import pluralize

from knowledge.html_links import MAX_LINKS_PER_PAGE
from knowledge.services import Outcome

logger = logging.getLogger(__name__)

# Disallowed addresses a sync remembers to count each once; past this many the count reads "N+".
MAX_DISALLOWED_COUNTED = 10 * MAX_LINKS_PER_PAGE


@dataclass
class SyncResult:
    pages: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    errors: dict[str, str] = field(default_factory=dict)  # url -> error code
    removed: int = 0
    skipped_robots: int = 0  # distinct addresses, counted up to MAX_DISALLOWED_COUNTED
    skipped_noindex: int = 0
    duplicates: int = 0  # pages with the text of a page read earlier in the sync (one is kept)
    dropped: int = 0  # pages whose stored text was removed after a permanent error
    meta_refreshes: int = 0  # redirect pages (a meta refresh at once): not stored, their target followed
    error: str = ""
    skipped: bool = False

    def summary(self) -> str:
        counts = ", ".join(f"{self.outcomes[o]} {o}" for o in (*Outcome, "not_modified"))
        return (
            f"{self.pages} page{pluralize(self.pages)}: {counts}, {self.removed} removed, "
            f"{self.skipped_robots}{'+' if self.skipped_robots >= MAX_DISALLOWED_COUNTED else ''} "
            f"disallowed by robots.txt, {self.skipped_noindex} noindex, "
            f"{self.duplicates} duplicate{pluralize(self.duplicates)}"
            + (f", {self.meta_refreshes} redirected by meta refresh" if self.meta_refreshes else "")
        )


def done_before_stop(result: SyncResult) -> str:
    """What a stopped sync changed before it stopped, or "" if nothing."""
    done = [
        f"{result.outcomes[o]} page{pluralize(result.outcomes[o], ' was, s were')} {o}"
        for o in (Outcome.CREATED, Outcome.UPDATED)
        if result.outcomes[o]
    ]
    if result.dropped:
        lost = f"{result.dropped} page{pluralize(result.dropped)} lost {pluralize(result.dropped, 'its,their')}"
        done.append(f"{lost} stored text to a permanent error")
    return ", ".join(done)
