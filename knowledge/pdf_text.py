"""The text of a PDF's pages as retrieval wants it, from what pypdf extracts page by page.

- Typographic ligatures (U+FB00-FB06: "ﬁ", "ﬂ", "ﬀ", "ﬃ", "ﬄ", "ﬅ", "ﬆ") are spelt out, so that "ﬁnd"
  is "find"; no other character changes (NFKC would also rewrite "½", "m²", full-width letters...).
- A form feed, like the break between two pages, is a paragraph break.
"""

from __future__ import annotations

from collections.abc import Sequence

LIGATURES = str.maketrans(
    {"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl", "\ufb05": "st", "\ufb06": "st"}
)


def pdf_text(pages: Sequence[str]) -> str:
    """The text of ``pages`` (pypdf's ``extract_text`` of each), cleaned as the module says; lines
    and blanks otherwise as extracted (``_tidy`` in ``knowledge.parsing`` comes next)."""
    return "\n\n".join(page.translate(LIGATURES).replace("\f", "\n\n") for page in pages)
