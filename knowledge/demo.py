"""Demo help centre of Juniper & Sage (Markdown under ``demo_content/``), ingested by ``seed_demo``."""

from __future__ import annotations

from pathlib import Path

from knowledge.services import file_ingest, source_get_or_create, source_mark_synced, source_prune
from supportai.models import Tenant

CONTENT_DIR = Path(__file__).resolve().parent / "demo_content"
SOURCE_NAME = "Help centre"


def seed_demo_knowledge(tenant: Tenant) -> str:
    """Idempotent: unchanged articles cost nothing; edited ones are re-indexed, removed ones deleted."""
    source = source_get_or_create(tenant=tenant, name=SOURCE_NAME, config={"path": "knowledge/demo_content"})
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
