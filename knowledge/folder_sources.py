"""The source ``manage.py ingest`` writes into: a folder source that remembers its path.

An ingest run with pruning deletes the source's documents that are no longer under its path, so it
may only prune a source that is its own: never one that holds uploaded files (the console's and the
REST API's upload sources, or any upload source with no path of its own), never the demo help
centre, which ``seed_demo`` owns, and never a website source.

The path is the operator's: tenants never see it (``tenant_visible_config``), only superusers in the
admin and the command's own messages.
"""

from __future__ import annotations

from typing import Any

from knowledge.demo import DEMO_CONFIG
from knowledge.models import KnowledgeSource
from knowledge.services import SourceKindError, source_get_or_create
from knowledge.source_config import UPLOAD_SOURCE_NAMES
from supportai.models import Tenant

# The caller says how to choose another source (the command: with --source).
HOLDS_UPLOADS = (
    "The source {name!r} holds uploaded files, and this run would delete those not under {path}. "
    "Pass --no-prune to add the files to it."
)
DEMO_OWNED = "The source {name!r} is the demo help centre, which seed_demo keeps."


# The setting that holds a folder source's path on the server (the demo's holds it too).
PATH_KEY = "path"


def tenant_visible_config(config: dict[str, Any]) -> dict[str, Any]:
    """A source's settings as its tenant may see them: without the server's path of a folder source."""
    return {key: value for key, value in config.items() if key != PATH_KEY}


class FolderSourceError(ValueError):
    """The named source is not one an ingest run may write into as asked."""


def folder_source(*, tenant: Tenant, name: str, path: str, prune: bool) -> KnowledgeSource:
    """The tenant's source named ``name`` for an ingest of ``path``, created as a folder source of
    that path if it has none; a folder source synced (pruned) from another path remembers the new one.
    Raises ``FolderSourceError`` for a source the run may not write into, or not prune (its message
    does not say how to name another source: the caller does)."""
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
    if prune and stored_path != path:
        source.config = {**source.config, PATH_KEY: path}
        source.save(update_fields=["config"])
    return source


def _upload_source(*, tenant: Tenant, name: str, config: dict | None = None) -> KnowledgeSource:
    try:
        return source_get_or_create(tenant=tenant, name=name, config=config)
    except SourceKindError as exc:
        raise FolderSourceError(str(exc)) from exc
