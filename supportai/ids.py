"""Ids read from text that a client sends (a query parameter, a link)."""

from __future__ import annotations

# Ids are bigints (at most 9223372036854775807): a longer value is none, and one of more than 4,300
# digits would make int() raise.
ID_MAX_DIGITS = 19


def id_from_text(value: str) -> int | None:
    """``value`` as a number when it can be an id: ASCII digits only (``str.isdecimal`` alone takes
    other scripts' digits, and ``str.isdigit`` ``²``, which int() refuses), at most ``ID_MAX_DIGITS``
    of them; None otherwise."""
    if not (value.isascii() and value.isdecimal()) or len(value) > ID_MAX_DIGITS:
        return None
    return int(value)
