"""Demo help centre of Juniper & Sage (Markdown under ``demo_content/``), ingested by ``seed_demo``."""

from __future__ import annotations

from pathlib import Path

from knowledge.models import KnowledgeSource, SourceKind
from knowledge.services import file_ingest, source_get_or_create, source_mark_synced, source_prune
from supportai.models import Tenant

CONTENT_DIR = Path(__file__).resolve().parent / "demo_content"
SOURCE_NAME = "Help centre"
# Marks the upload source the demo owns: the only one it ingests into and prunes.
DEMO_CONFIG = {"path": "knowledge/demo_content"}


def demo_source(tenant: Tenant) -> KnowledgeSource:
    """The tenant's upload source that the demo owns (``DEMO_CONFIG``), created on first use as
    "Help centre", or "Help centre (demo)", "Help centre (demo 2)", … when the tenant already has a
    source of that name (a website, or its own uploads): those are never touched."""
    owned = KnowledgeSource.objects.for_tenant(tenant).filter(kind=SourceKind.UPLOAD, config=DEMO_CONFIG)
    source = owned.order_by("pk").first()
    if source is not None:
        return source
    taken = set(KnowledgeSource.objects.for_tenant(tenant).values_list("name", flat=True))
    names = (SOURCE_NAME, f"{SOURCE_NAME} (demo)", *(f"{SOURCE_NAME} (demo {n})" for n in range(2, len(taken) + 3)))
    name = next(name for name in names if name not in taken)
    return source_get_or_create(tenant=tenant, name=name, config=dict(DEMO_CONFIG))


def seed_demo_knowledge(tenant: Tenant) -> str:
    """Idempotent: unchanged articles cost nothing; edited ones are re-indexed, removed ones deleted."""
    source = demo_source(tenant)
    keep: set[str] = set()
    counts: dict[str, int] = {}
    for path in sorted(CONTENT_DIR.glob("*.md")):
        result = file_ingest(tenant=tenant, source=source, name=path.name, data=path.read_bytes())
        keep.update(result.external_ids)
        for outcome, count in result.outcomes.items():
            counts[outcome] = counts.get(outcome, 0) + count
    removed = source_prune(tenant=tenant, source=source, keep=keep)
    source_mark_synced(source=source)
    summary = ", ".join(f"{count} {outcome}" for outcome, count in sorted(counts.items()))
    return f"knowledge: {len(keep)} help-centre articles ({summary}, {removed} removed)"
