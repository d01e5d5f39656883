"""One file of a folder that ``manage.py ingest`` reads from disk: read (``folder_file_read``),
ingested (``folder_file_ingest``) or only checked, storing nothing (``folder_file_check``), under its
name in the folder (``folder_file_name``). A file's error, an unexpected exception included (logged),
is its result's, never the run's. A file parsed ahead of its turn (``ParsedAhead``: read first
before a move or a take-over, or compared to recognise a moved folder) is ingested from that parse,
not read and parsed again.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from knowledge import conf
from knowledge.models import KnowledgeSource
from knowledge.parsed import ErrorCode, ParsedFile, ParseError
from knowledge.parsing import file_check, file_name_nfc
from knowledge.services import FileResult, file_ingest, file_parse, ids_not_taken
from supportai.models import Tenant

logger = logging.getLogger(__name__)


def folder_file_read(file: Path, name: str) -> bytes:
    """The file's bytes; raises ``ParseError`` for one too large by its size, or that cannot be read."""
    try:
        file_check(name, file.stat().st_size, max_bytes=conf.SETTINGS.max_upload_bytes)
        return file.read_bytes()
    except OSError as exc:
        raise ParseError(ErrorCode.UNREADABLE, detail=exc.strerror or exc) from exc


# How much parsed text (characters of documents' titles and texts) ``ParsedAhead`` keeps for a run, from
# a file's first read to its turn. A run that reads every file first (a move, a take-over) would otherwise
# hold the whole folder's text at once, where the run itself streams one file at a time: while the files
# parsed fit, each is parsed once; past that, a file's parse is dropped once it has been checked and the
# file is read and parsed again at its turn. ~64 MB of ASCII text at most (4 bytes a character for text
# beyond the BMP), what a help centre of thousands of articles or six files at the default upload limit give.
AHEAD_MAX_CHARS = 64 * 1024 * 1024


@dataclass
class ParsedAhead:
    """Files of a run parsed before their turn, in ``language`` (the run's, for the files that declare
    none), each kept, with its error if it has one, until the run ingests it: a file is parsed once,
    while ``room`` (characters of parsed text, ``AHEAD_MAX_CHARS`` by default) holds its documents."""

    language: str
    room: int = field(default_factory=lambda: AHEAD_MAX_CHARS)
    _parsed: dict[tuple[Path, str], ParsedFile | ParseError] = field(default_factory=dict)

    def parse(self, file: Path, name: str) -> ParsedFile:
        """The documents of ``file`` named ``name``, as ``folder_file_ingest`` would parse it (not yet
        checked against the ids earlier files gave); raises ``ParseError`` for a file it would refuse."""
        key = (file, name)
        parsed = self._parsed.get(key)
        if parsed is None:
            try:
                parsed = file_parse(name=name, data=folder_file_read(file, name), default_language=self.language)
            except ParseError as exc:
                parsed = exc
            size = _chars(parsed)
            if size <= self.room:
                self._parsed[key] = parsed
                self.room -= size
        if isinstance(parsed, ParseError):
            raise parsed
        return parsed

    def take(self, file: Path, name: str) -> ParsedFile | ParseError | None:
        """The parse of ``file`` named ``name``, no longer kept; None if it was not kept (not parsed
        ahead, or past ``room``)."""
        parsed = self._parsed.pop((file, name), None)
        if parsed is not None:
            self.room += _chars(parsed)
        return parsed


def _chars(parsed: ParsedFile | ParseError) -> int:
    """The characters of text a parse holds (an error: none worth counting)."""
    if isinstance(parsed, ParseError):
        return 0
    return sum(len(document.title) + len(document.text) for document in parsed.documents)


def folder_file_ingest(
    *,
    tenant: Tenant,
    source: KnowledgeSource,
    file: Path,
    name: str,
    language: str,
    taken: Mapping[str, str],
    ahead: ParsedAhead | None = None,
) -> FileResult:
    """One file's result; reading errors and unexpected exceptions become its error, never the run's.
    A file ``ahead`` holds is ingested from its parse there."""
    parsed = ahead.take(file, name) if ahead else None
    try:
        if isinstance(parsed, ParseError):
            raise parsed
        data = b"" if parsed else folder_file_read(file, name)
    except ParseError as exc:
        return FileResult.refused(name, exc)
    try:
        return file_ingest(
            tenant=tenant,
            source=source,
            name=name,
            data=data,
            parsed=parsed,
            default_language=language,
            taken=taken,
            delete_leftovers=False,
        )
    except Exception:
        logger.exception("Ingesting %s into tenant %s failed", file, tenant.pk)
        return FileResult.internal_error(name)


def folder_file_check(*, file: Path, name: str, ahead: ParsedAhead, taken: Mapping[str, str]) -> FileResult:
    """The error ``folder_file_ingest`` would give the file, storing nothing; else the ids it gives.
    The file is parsed into ``ahead``, for the run to ingest it from there."""
    try:
        parsed = ahead.parse(file, name)
        ids_not_taken(parsed.documents, taken)
    except ParseError as exc:
        return FileResult.refused(name, exc)
    except Exception:
        logger.exception("Reading %s failed", file)
        return FileResult.internal_error(name)
    return FileResult(name=name, external_ids=[document.external_id for document in parsed.documents])


def folder_file_name(file: Path, root: Path) -> str:
    return file_name_nfc(str(file.relative_to(root)))  # as an upload of the file names it
