"""The source ``manage.py ingest`` writes into: a folder source that remembers its path.

An ingest run with pruning deletes the source's documents that are no longer under its path, so it
may only prune a source that is its own: never one that holds uploaded files (the console's and the
REST API's upload sources, or any upload source with no path of its own), never the demo help
centre, which ``seed_demo`` owns, and never a website source.

A folder source holds one folder: its documents are named by their files' paths under it, so a run
without pruning takes only that folder, or a file or folder under it, whose files keep the names a
run of the whole folder gives them. Another folder's ``faq.md`` would be the same document as its
own: such a run is refused (a pruning run moves the source to the new path instead, once it has
read every file there: a run that failed, of a mistyped folder say, leaves the source where it was,
and the command reads every file of the new path before it stores any, so such a run stores nothing).

A run given no source name writes into the source the path is already in, so that a file or folder
is never held twice (``enclosing_folder_source``): the source named by the path if the tenant has
one, else the nearest folder source whose folder is the path or holds it (its files named as a run
of that folder names them; the run prunes only under the path and never moves the source). A path
in the demo help centre's folder is refused (``seed_demo`` keeps it, and a copy would duplicate its
articles), as is one in the folder of two sources (the run cannot tell which); upload sources hold
no folder, so a path is never taken to be in one (even one a superuser gave a path in the admin),
and a hidden path (``.drafts/``, ``sub/.faq.md``) is not taken to be in the folder around it, whose
runs leave it out and would prune what it stored.
A run of a folder given no source name also takes over the sources named by their own path of the
files and folders in it that it reads (``inner_folder_sources``, ``knowledge.folder_takeover``): it
first reads every file (while one has errors it changes nothing), moves their documents into its
own source under the names it gives them (ids, chunks and vectors kept; every source in one
transaction), and once no file failed
deletes those sources with what they still hold (copies its source had already). A pruning run
deletes too, once no file failed, those whose file or folder no longer exists, with their documents
(``vanished_inner_sources``). Sources named by hand (``--source``) are never taken over, and another
tenant's sources are never looked at.

The path is the operator's: tenants never see it (``tenant_visible_config``), only superusers in the
admin and the command's own messages.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from knowledge.demo import CONTENT_DIR, DEMO_CONFIG
from knowledge.models import KnowledgeSource, SourceKind
from knowledge.services import SourceKindError, source_get_or_create
from knowledge.source_config import UPLOAD_SOURCE_NAMES
from supportai.models import Tenant

# The caller says how to choose another source (the command: with --source).
HOLDS_UPLOADS = (
    "The source {name!r} holds uploaded files, and this run would delete those not under {path}. "
    "Pass --no-prune to add the files to it."
)
DEMO_OWNED = "The source {name!r} is the demo help centre, which seed_demo keeps."
OTHER_FOLDER = (
    "The source {name!r} holds the files of {folder}; {path} is not under it, and its files would replace "
    "those named alike there (a faq.md in each is one document). To move the source to it instead, ingest it "
    "without --no-prune: the documents not under it are then deleted."
)

DEMO_FOLDER = (
    "{path} lies in the folder of the demo help centre (the source {name!r}), which seed_demo keeps: run "
    "seed_demo to refresh it."
)
TWO_SOURCES = "{path} lies in the folder of more than one source ({names}), so the run cannot tell which to write into."


# The setting that holds a folder source's path on the server (the demo's holds it too).
PATH_KEY = "path"


def tenant_visible_config(config: dict[str, Any]) -> dict[str, Any]:
    """A source's settings as its tenant may see them: without the server's path of a folder source."""
    return {key: value for key, value in config.items() if key != PATH_KEY}


class FolderSourceError(ValueError):
    """The named source is not one an ingest run may write into as asked."""


def folder_source(*, tenant: Tenant, name: str, path: str, prune: bool) -> KnowledgeSource:
    """The tenant's source named ``name`` for an ingest of ``path``, created as a folder source of
    that path if it has none; a pruning run of another path may write into a folder source, and
    records its path with ``folder_source_move`` once it has read every file there. Raises
    ``FolderSourceError`` for a source the run may not write into, or not prune, and for a run
    without pruning of a path outside a folder source's folder (its message does not say how to
    name another source: the caller does)."""
    if name in UPLOAD_SOURCE_NAMES:
        if prune:
            raise FolderSourceError(HOLDS_UPLOADS.format(name=name, path=path))
        return _upload_source(tenant=tenant, name=name)
    source = _upload_source(tenant=tenant, name=name, config={PATH_KEY: path})
    if source.config == DEMO_CONFIG:
        raise FolderSourceError(DEMO_OWNED.format(name=name))
    stored_path = source.config.get(PATH_KEY)
    if prune and not stored_path:
        raise FolderSourceError(HOLDS_UPLOADS.format(name=name, path=path))
    if not prune and stored_path and path != stored_path:
        folder = source_folder(source)
        if folder is None or not Path(path).is_relative_to(folder):
            raise FolderSourceError(OTHER_FOLDER.format(name=name, folder=folder or stored_path, path=path))
    return source


def folder_source_move(*, source: KnowledgeSource, path: str) -> None:
    """Record ``path`` as the folder source's own, after a pruning run of it read every file there."""
    if source.config.get(PATH_KEY) != path:
        source.config = {**source.config, PATH_KEY: path}
        source.save(update_fields=["config"])


def source_folder(source: KnowledgeSource) -> Path | None:
    """The folder a folder source's documents are named under, its links resolved as ``ingest``
    resolves its PATH: its path, or the folder of the one file it was made from; None without a path,
    or when nothing is there any more."""
    stored = source.config.get(PATH_KEY)
    if not stored:
        return None
    path = Path(stored)
    if path.is_dir():
        return path.resolve()
    return path.parent.resolve() if path.is_file() else None


def _upload_source(*, tenant: Tenant, name: str, config: dict | None = None) -> KnowledgeSource:
    try:
        return source_get_or_create(tenant=tenant, name=name, config=config)
    except SourceKindError as exc:
        raise FolderSourceError(str(exc)) from exc


def enclosing_folder_source(*, tenant: Tenant, path: Path) -> KnowledgeSource | None:
    """The tenant's source an ingest of ``path`` (resolved) given no source name writes into when it
    is not one named by ``path``: None when the tenant has a source of that name (the run's own, as
    ever) or no folder source whose folder is ``path`` or holds it (not as a hidden file or folder, or
    in one); else the nearest such. Raises
    ``FolderSourceError`` when that is the demo help centre's, or when two sources hold that folder."""
    sources = KnowledgeSource.objects.for_tenant(tenant)
    if sources.filter(name=str(path)).exists():
        return None
    nearest: list[KnowledgeSource] = []
    depth = -1
    folder_sources = sources.filter(kind=SourceKind.UPLOAD, config__has_key=PATH_KEY).exclude(
        name__in=UPLOAD_SOURCE_NAMES
    )
    for source in folder_sources.order_by("name"):
        folder = _folder(source)
        if folder is None or not path.is_relative_to(folder) or _hidden_under(path, folder):
            continue
        if len(folder.parts) > depth:
            nearest, depth = [], len(folder.parts)
        if len(folder.parts) == depth:
            nearest.append(source)
    if len(nearest) > 1:
        raise FolderSourceError(TWO_SOURCES.format(path=path, names=", ".join(repr(s.name) for s in nearest)))
    if nearest and nearest[0].config == DEMO_CONFIG:
        raise FolderSourceError(DEMO_FOLDER.format(path=path, name=nearest[0].name))
    return nearest[0] if nearest else None


@dataclass(frozen=True)
class InnerSource:
    source: KnowledgeSource
    # The folder its documents are named under: its path, or the folder of the file it was made from.
    folder: Path


def inner_folder_sources(*, tenant: Tenant, path: Path, files: list[Path]) -> list[InnerSource]:
    """The tenant's folder sources named by their own path, a file or folder strictly under the
    folder ``path`` (resolved) that holds some of ``files`` (the files a run of ``path`` reads: a
    hidden folder's source, whose files it leaves out, is not among them), by name. Their paths are
    compared with their folders' links resolved: a folder moved behind a link (``/kb`` a link to
    ``/disk/kb`` now) still holds the sources recorded in it, of its own files and folders (a source
    of a folder that is a link is not, as the run does not follow it)."""
    inner = []
    for source, stored in _path_named_under(tenant=tenant, path=path):
        if stored in files:
            inner.append(InnerSource(source, stored.parent))
        elif any(file.is_relative_to(stored) for file in files):
            inner.append(InnerSource(source, stored))
    return inner


def vanished_inner_sources(*, tenant: Tenant, path: Path) -> list[KnowledgeSource]:
    """The tenant's folder sources named by their own path, a file or folder strictly under the
    folder ``path`` (resolved, links compared as ``inner_folder_sources`` does) that no longer exists,
    by name: a pruning run of ``path`` with no file errors deletes them with their documents, those
    of files that are gone (a path that cannot be looked at is not taken for gone)."""
    return [source for source, stored in _path_named_under(tenant=tenant, path=path) if path_gone(stored)]


def _path_named_under(*, tenant: Tenant, path: Path) -> Iterator[tuple[KnowledgeSource, Path]]:
    """The tenant's folder sources named by their own absolute path (the demo's aside), by name, whose
    path, its folder's links resolved, lies strictly under ``path``; each with that path."""
    candidates = KnowledgeSource.objects.for_tenant(tenant).filter(kind=SourceKind.UPLOAD, config__has_key=PATH_KEY)
    for source in candidates.order_by("name"):
        recorded = Path(source.name)
        if source.config[PATH_KEY] != source.name or source.config == DEMO_CONFIG or not recorded.is_absolute():
            continue
        folder = _resolved(recorded.parent)
        stored = folder / recorded.name if folder else None
        if stored is not None and stored != path and stored.is_relative_to(path):
            yield source, stored


def path_gone(path: Path) -> bool:
    """Whether nothing is at ``path`` any more; False when it cannot be looked at (a folder on the way
    that cannot be entered: its files are unknown, not gone), and when the nearest folder on the way
    that is there is empty: that is what an unmounted disk or network share leaves (its mount point),
    so its files are out of reach, not gone."""
    try:
        path.stat()
    except (FileNotFoundError, NotADirectoryError):
        return not _in_empty_folder(path)
    except OSError:
        return False
    return False


def _in_empty_folder(path: Path) -> bool:
    """Whether the nearest folder around ``path`` that is there is empty (or cannot be listed)."""
    for folder in path.parents:
        try:
            return next(folder.iterdir(), None) is None
        except (FileNotFoundError, NotADirectoryError):
            continue
        except OSError:
            return True
    return False


def _hidden_under(path: Path, folder: Path) -> bool:
    """Whether ``path`` is a hidden file or folder under ``folder``, or lies in one: a run of ``folder``
    leaves it out (``ingest`` skips names beginning with "."), so it would prune what ``path`` stored."""
    return any(part.startswith(".") for part in path.relative_to(folder).parts)


def _folder(source: KnowledgeSource) -> Path | None:
    """The folder a folder source holds, as a path other paths can lie in (the demo's is recorded
    relative to the project), its links resolved as ``ingest`` resolves its PATH (a folder moved
    behind a link still holds its files); None for a source made from a file, or whose folder is gone."""
    folder = CONTENT_DIR if source.config == DEMO_CONFIG else Path(source.config[PATH_KEY])
    return folder.resolve() if folder.is_absolute() and folder.is_dir() else None


def _resolved(path: Path) -> Path | None:
    """``path`` with its links resolved; None for a loop of links."""
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        return None
