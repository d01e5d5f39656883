"""How an error message quotes a value someone sent: enough to recognise it, not a pasted page."""

from __future__ import annotations

from dataclasses import dataclass

QUOTED_CHARS = 120  # enough to recognise a long address or host name


@dataclass(frozen=True)
class Quoted:
    """``value`` for a message's ``{value!r}``: its repr, a text cut to ``limit`` characters (with
    "…") before it is quoted, anything else cut after."""

    value: object
    limit: int = QUOTED_CHARS

    def __repr__(self) -> str:
        if isinstance(self.value, str):
            return repr(_cut(self.value, self.limit))
        return _cut(repr(self.value), self.limit)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
