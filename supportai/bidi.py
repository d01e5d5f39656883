"""Names from tenant data (document titles, file names, source names) shown inside our own text.

Such a name may hold Unicode bidi controls: a RIGHT-TO-LEFT OVERRIDE (U+202E) in a title reverses
everything after it up to the end of the line, the words of ours around the name included. Markup
wraps the name in ``<bdi>``; plain text (messages, ``<title>``, attributes) uses ``isolate``.
"""

from __future__ import annotations

FSI = "\u2068"  # FIRST STRONG ISOLATE: the name takes the direction of its own first strong letter
PDI = "\u2069"  # POP DIRECTIONAL ISOLATE: ends the isolate, and closes what the name left open


def isolate(name: object) -> str:
    """``name`` as a directional isolate: nothing in it changes how the text around it reads."""
    return f"{FSI}{name}{PDI}"
