"""The files management commands write: checked before the long work that ends in writing them,
then written whole or not at all."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TextIO

from django.core.management.base import CommandError


def check_writable(path: Path, *, option: str, folder_hint: str) -> None:
    """Refuse ``path``, given with ``option``, when it could not be written after a run that takes
    minutes; creates the missing folders above it. ``folder_hint`` ends the message when ``path``
    is a folder."""
    if path.is_dir():
        raise CommandError(f"{option}: {path} is a folder; {folder_hint}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CommandError(f"{option}: the folder {path.parent} could not be created: {exc.strerror or exc}") from exc
    # the file is written beside it and renamed over it (``replaced``): both must be writable
    if not os.access(path.parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise CommandError(f"{option}: {path} is not writable")


@contextmanager
def replaced(path: Path) -> Iterator[TextIO]:
    """A UTF-8 text file whose content replaces ``path`` once the block ends without an error.

    It is written to a temporary file in ``path``'s folder (a rename within one file system is
    atomic), flushed to disk and renamed over ``path``: a Ctrl-C, a full disk or any error in the
    block leaves the previous ``path`` as it was, or none, and removes the temporary file. The new
    file has the previous one's permissions, or those the umask gives a new file."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            os.fchmod(out.fileno(), _mode_for(path))
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        with suppress(OSError):
            os.unlink(temporary)
        raise


def _mode_for(path: Path) -> int:
    try:
        return path.stat().st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
