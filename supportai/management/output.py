"""Checks management commands make on the files they write before long work that ends in writing them."""

from __future__ import annotations

import os
from pathlib import Path

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
    if not os.access(path if path.exists() else path.parent, os.W_OK):
        raise CommandError(f"{option}: {path} is not writable")
