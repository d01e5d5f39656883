"""What the customer said or chose, kept on their open escalation: one line per reason, bounded.

Each raise may bring a reason (the words that triggered it, the text of the widget's button). They
accumulate on the open escalation as lines, in the order they came, a reason given again not repeated.
When the lines pass ``MAX_REASON_CHARS`` the first reason (what opened it) and the latest stay whole, and
the oldest of those between go: a line after the first says how many characters were left out
(``Escalation.reason_left_out`` keeps the count), so the inbox, the email and the webhook all show that
something is missing (Slack's message names the reason codes and quotes the conversation, not the reasons).
A reason is one line (its line breaks, U+2028 too, become " / ", as in the summary), so nothing is ever cut
inside one; one longer than ``MAX_ONE_REASON_CHARS`` ends in "…" after a whole
grapheme, never inside a letter and its accents or an emoji sequence (``clip``, from
``escalations.graphemes``, which everything cutting customer text for staff uses).
"""

from __future__ import annotations

from dataclasses import dataclass

from escalations.graphemes import ELLIPSIS, clip
from escalations.summary import one_line

MAX_REASON_CHARS = 2000
MAX_ONE_REASON_CHARS = 1000  # the widget's and the HTTP API's own limit


def omitted_line(count: int) -> str:
    return f"[{ELLIPSIS} {count:,} characters omitted {ELLIPSIS}]"


@dataclass(frozen=True)
class Reasons:
    text: str
    left_out: int  # characters of reasons between the first and those kept after it


def reasons_added(text: str, left_out: int, reason: str) -> Reasons:
    """The escalation's reasons (``text``, ``left_out``) with ``reason`` added as the latest."""
    line = clip(one_line(reason), MAX_ONE_REASON_CHARS)
    lines = text.splitlines()
    first, later = lines[:1], lines[2:] if left_out else lines[1:]  # the line after the first: the count
    if not line or line in first or line in later:
        return Reasons(text, left_out)
    later.append(line)
    if not first:
        first, later = later[:1], later[1:]
    while len(later) > 1 and len(_joined(first, left_out, later)) > MAX_REASON_CHARS:
        left_out += len(later.pop(0))
    return Reasons(_joined(first, left_out, later), left_out)


def _joined(first: list[str], left_out: int, later: list[str]) -> str:
    return "\n".join([*first, *([omitted_line(left_out)] if left_out else []), *later])
