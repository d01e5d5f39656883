"""How ``manage.py ingest`` names what it reads: the folder its files' names are relative to
(``names_root``), how deep a folder lies there (``name_prefix``), and a source in its messages
(``source_label``)."""

from __future__ import annotations

from pathlib import Path

from knowledge.folder_ingest import folder_file_name
from knowledge.folder_sources import PATH_KEY, source_folder
from knowledge.models import KnowledgeSource


def names_root(path: Path, source: KnowledgeSource, *, prune: bool) -> Path:
    """The folder the files' names are relative to: without pruning, the folder of the folder source
    when ``path`` (a file or a folder) lies under it, so that each file keeps the name a run of that
    folder gave it (the documents of another file of that name are not its own, nor are its CSV rows
    new); else ``path`` itself, or a file's folder (a pruning run moves the source there)."""
    folder = None if prune else source_folder(source)
    if folder is not None and path.is_relative_to(folder):
        return folder
    return path if path.is_dir() else path.parent


def name_prefix(folder: Path, root: Path) -> str:
    """How deep ``folder`` lies in ``root``, as its files' names there start: ``""`` or ``sub/``."""
    return "" if folder == root else f"{folder_file_name(folder, root)}/"


def source_label(source: KnowledgeSource) -> str:
    """``the source of /kb`` for a folder source named by its path, ``the source 'Help' of /kb`` else."""
    path = source.config.get(PATH_KEY, "")
    return f"the source of {path}" if source.name == path else f"the source {source.name!r} of {path}"
