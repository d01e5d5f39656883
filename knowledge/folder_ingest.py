"""One file of a folder that ``manage.py ingest`` reads from disk: read (``folder_file_read``),
ingested (``folder_file_ingest``) or only checked, storing nothing (``folder_file_check``), under its
name in the folder (``folder_file_name``). A file's error, an unexpected exception included (logged),
is its result's, never the run's.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

from knowledge import conf
from knowledge.models import KnowledgeSource
from knowledge.parsed import ErrorCode, ParseError
from knowledge.parsing import file_check, file_name_nfc
from knowledge.services import FileResult, file_ingest, file_parse
from supportai.models import Tenant

logger = logging.getLogger(__name__)


def folder_file_read(file: Path, name: str) -> bytes:
    """The file's bytes; raises ``ParseError`` for one too large by its size, or that cannot be read."""
    try:
        file_check(name, file.stat().st_size, max_bytes=conf.SETTINGS.max_upload_bytes)
        return file.read_bytes()
    except OSError as exc:
        raise ParseError(ErrorCode.UNREADABLE, detail=exc.strerror or exc) from exc


def folder_file_ingest(
    *, tenant: Tenant, source: KnowledgeSource, file: Path, name: str, language: str, taken: Mapping[str, str]
) -> FileResult:
    """One file's result; reading errors and unexpected exceptions become its error, never the run's."""
    try:
        data = folder_file_read(file, name)
    except ParseError as exc:
        return FileResult.refused(name, exc)
    try:
        return file_ingest(
            tenant=tenant,
            source=source,
            name=name,
            data=data,
            default_language=language,
            taken=taken,
            delete_leftovers=False,
        )
    except Exception:
        logger.exception("Ingesting %s into tenant %s failed", file, tenant.pk)
        return FileResult.internal_error(name)


def folder_file_check(*, file: Path, name: str, language: str, taken: Mapping[str, str]) -> FileResult:
    """The error ``folder_file_ingest`` would give the file, storing nothing; else the ids it gives."""
    try:
        parsed = file_parse(name=name, data=folder_file_read(file, name), default_language=language, taken=taken)
    except ParseError as exc:
        return FileResult.refused(name, exc)
    except Exception:
        logger.exception("Reading %s failed", file)
        return FileResult.internal_error(name)
    return FileResult(name=name, external_ids=[document.external_id for document in parsed.documents])


def folder_file_name(file: Path, root: Path) -> str:
    return file_name_nfc(str(file.relative_to(root)))  # as an upload of the file names it
