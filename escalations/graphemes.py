"""Customer text cut short where staff read it, between whole graphemes.

A cut by code points can fall inside an emoji sequence (a ZWJ family, a skin tone, a flag's two regional
indicators) or between a letter and its combining accent, and staff then read another emoji, half a
flag or a letter without its accent. ``clip`` cuts after the last whole grapheme (Unicode extended
grapheme clusters) that fits and ends in "…". It imports nothing of ours, so the summary (which
``escalations.reasons`` builds on) and chat's models use it too; ``escalations.reasons.clip`` is this.
"""

from __future__ import annotations

import regex

ELLIPSIS = "…"
_GRAPHEME = regex.compile(r"\X")


def clip(text: str, limit: int) -> str:
    """``text`` in at most ``limit`` characters: whole, or its first whole graphemes and "…"."""
    if len(text) <= limit:
        return text
    kept = 0
    for grapheme in _GRAPHEME.finditer(text):
        if grapheme.end() > limit - len(ELLIPSIS):
            break
        kept = grapheme.end()
    return text[:kept] + ELLIPSIS
