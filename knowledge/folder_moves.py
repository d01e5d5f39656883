"""A folder moved with nothing left behind (``mv kb kb2``) keeps its source.

``manage.py ingest`` of a folder given no source name, that would make a new source named by the
folder's path, first looks for the folder it was: a source of the tenant named by its own path
(``knowledge.folder_sources``) whose path no longer exists, more than half of whose documents came
from a file this folder holds under the same name (its path under the folder) and are unchanged there
(the same document id and content hash: a folder moved and then edited a little, or with a file
deleted, is still recognised; an unrelated folder whose files are named alike is not, nor is one that
holds less than half of the old folder's documents). A source whose path still
exists (a folder copied, not moved), or cannot be looked at, or lay in a folder now empty (an
unmounted disk's mount point: ``folder_sources.path_gone``), is never taken, nor is another tenant's.
Of several, the one with the most documents unchanged is taken (then by name), and only it.

The source taken is renamed to the folder's path, in place of the run's new source of it (still
empty: the command looks only once the run may go on, so that a refused run leaves every source as
it was), its documents kept as rows (ids, chunks, vectors):
the run then finds the unchanged ones unchanged (nothing embedded again), updates the edited ones in
place, and prunes, as ever, those whose file is gone (deleted before or after the move). The sources
named by their own path of files
and folders in the old folder stay where they were, gone with it: a pruning run deletes them as it
deletes those whose file or folder is gone (``folder_sources.vanished_inner_sources`` of the old path).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction
from django.template.defaultfilters import pluralize

from knowledge.demo import DEMO_CONFIG
from knowledge.folder_ingest import ParsedAhead, folder_file_name
from knowledge.folder_sources import PATH_KEY, path_gone
from knowledge.models import Document, KnowledgeSource, SourceKind
from knowledge.parsed import ParseError
from knowledge.services import content_hash
from supportai.models import Tenant

logger = logging.getLogger(__name__)

RECOGNISED = "{path}: recognised as {old} moved here: {count} document{plural} kept"
# Said after RECOGNISED when some of the old folder's documents came from files the folder does not
# hold (deleted before or after the move): a pruning run deletes them as any whose file is gone.
NOT_HERE = ", {count} whose {files} not here"


@dataclass(frozen=True)
class MovedFolder:
    """A folder recognised as moved from ``old`` to ``path``, whose ``source``, of ``documents``
    documents from files the folder holds and ``not_here`` from files it does not, is renamed to it."""

    old: str
    path: Path
    documents: int
    source: KnowledgeSource
    not_here: int = 0

    def told(self) -> str:
        told = RECOGNISED.format(path=self.path, old=self.old, count=self.documents, plural=pluralize(self.documents))
        if not self.not_here:
            return told
        return told + NOT_HERE.format(count=self.not_here, files=pluralize(self.not_here, "file is,files are"))


def moved_folder_take_over(
    *,
    tenant: Tenant,
    path: Path,
    files: list[Path],
    ahead: ParsedAhead,
    replacing: KnowledgeSource,
    progress: Callable[[list[str]], Iterable[str]] = iter,
) -> MovedFolder | None:
    """Rename to ``path`` (a folder, resolved, whose files a run reads are ``files``) the tenant's
    source of the folder moved there, if one is recognised (see the module), in place of
    ``replacing``, the run's new source of ``path``, which holds nothing yet and is deleted; return
    it, else None (``replacing`` kept). The files compared are parsed into ``ahead`` (in the run's
    language, which is in the content hash), for the run to ingest them from there, each once, through
    ``progress`` (the command's bar), which is given no names when there is nothing to compare."""
    by_name = {folder_file_name(file, path): file for file in files}
    candidates = []
    for source in _vanished_path_named(tenant=tenant):
        stored = list(
            Document.objects.for_tenant(tenant)
            .filter(source=source)
            .values_list("external_id", "file_name", "content_hash")
        )
        here = [(external_id, file_name, digest) for external_id, file_name, digest in stored if file_name in by_name]
        # More than half of all its documents must be here unchanged: those of files not here count against.
        if len(here) * 2 > len(stored):
            candidates.append((source, stored, here))
    names = sorted({file_name for _, _, here in candidates for _, file_name, _ in here})
    digests = {name: _digests(ahead, by_name[name], name) for name in (progress(names) if names else [])}
    best: tuple[int, KnowledgeSource, int, int] | None = None
    for source, stored, here in candidates:
        unchanged = sum(digests[file_name].get(external_id) == digest for external_id, file_name, digest in here)
        if unchanged * 2 > len(stored) and (best is None or unchanged > best[0]):
            best = (unchanged, source, len(here), len(stored) - len(here))
    if best is None:
        return None
    _, source, documents, not_here = best
    old = source.name
    try:
        with transaction.atomic():
            sources = KnowledgeSource.objects.for_tenant(tenant)
            sources.filter(pk=replacing.pk).delete()  # the queryset's: ``replacing`` stays whole if rolled back
            config = {**source.config, PATH_KEY: str(path)}
            if not sources.filter(pk=source.pk, name=old).update(name=str(path), config=config):
                raise _Gone  # taken by a run of another copy meanwhile: this run keeps its own source
    except _Gone:
        return None
    source.refresh_from_db()
    return MovedFolder(old, path, documents, source, not_here)


class _Gone(Exception):
    """The source recognised was renamed by another run meanwhile."""


def _vanished_path_named(*, tenant: Tenant) -> list[KnowledgeSource]:
    """The tenant's folder sources named by their own absolute path (the demo's aside) whose path no
    longer exists, by name."""
    candidates = KnowledgeSource.objects.for_tenant(tenant).filter(kind=SourceKind.UPLOAD, config__has_key=PATH_KEY)
    return [
        source
        for source in candidates.order_by("name")
        if source.config[PATH_KEY] == source.name
        and source.config != DEMO_CONFIG
        and Path(source.name).is_absolute()
        and path_gone(Path(source.name))
    ]


def _digests(ahead: ParsedAhead, file: Path, name: str) -> dict[str, str]:
    """The content hash of each document the file ``name`` gives, by id; none for a file with errors
    (the run names it)."""
    try:
        parsed = ahead.parse(file, name)
    except ParseError:
        return {}
    except Exception:
        logger.exception("Reading %s failed", file)
        return {}
    return {document.external_id: content_hash(document) for document in parsed.documents}
