"""The PATH ``manage.py ingest`` is given, checked before it looks at any source (``ingest_path``):
resolved, and refused with ``IngestPathError`` when it is a link in a loop of links, is not UTF-8
text (PostgreSQL could store neither the source's name nor its path), is not there, or is neither a
file nor a folder."""

from __future__ import annotations

from pathlib import Path

from knowledge.parsed import UNSTORABLE

LINK_LOOP = "{path} is a link in a loop of links; nothing was changed."
# PostgreSQL text is UTF-8: a name that is not (a Latin-1 folder name, which Python reads as surrogate
# escapes) cannot be the source's name or its recorded path.
PATH_NOT_UTF8 = "The path {path!r} is not valid UTF-8 text, so the source cannot record it; rename it."
PATH_MISSING = "{path} does not exist"
PATH_NOT_FILE = "{path} is neither a file nor a folder"


class IngestPathError(ValueError):
    """The PATH given cannot be ingested (its message says why)."""


def ingest_path(given: Path) -> Path:
    """``given`` resolved, once it is a file or folder whose path a source can record."""
    try:
        path = given.resolve()
    except RuntimeError as exc:  # a loop of links (Python 3.13 leaves it unresolved: not found)
        raise IngestPathError(LINK_LOOP.format(path=given)) from exc
    if UNSTORABLE.search(str(path)):
        raise IngestPathError(PATH_NOT_UTF8.format(path=str(path)))
    if not path.exists():
        raise IngestPathError(PATH_MISSING.format(path=path))
    if not path.is_file() and not path.is_dir():
        raise IngestPathError(PATH_NOT_FILE.format(path=path))
    return path
