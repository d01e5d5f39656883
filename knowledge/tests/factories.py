from __future__ import annotations

from knowledge.indexing import document_index
from knowledge.models import Document, KnowledgeSource
from knowledge.parsed import ParsedDocument
from knowledge.services import document_upsert, source_get_or_create
from supportai.models import Tenant


def add_document(
    tenant: Tenant,
    title: str,
    text: str,
    *,
    external_id: str | None = None,
    url: str = "",
    source: KnowledgeSource | None = None,
    language: str = "en",
) -> Document:
    """Ingest one document synchronously with the configured (fake, in tests) embedder."""
    from knowledge.services import default_provider

    provider = default_provider()
    source = source or source_get_or_create(tenant=tenant, name="test uploads")
    parsed = ParsedDocument(external_id or title, title, text, url=url, language=language)
    document, _ = document_upsert(tenant=tenant, source=source, parsed=parsed, model=provider.model)
    document_index(tenant=tenant, document=document, provider=provider)
    document.refresh_from_db()
    return document


FAQ_ROWS = [("Can I park?", "Yes, behind the studio."), ("Do you sell gift cards?", "Yes."), ("Is there wifi?", "No.")]


def faq_csv(rows: list[tuple[str, str]]) -> bytes:
    """A CSV FAQ (question,answer) of ``rows``."""
    return ("question,answer\n" + "".join(f'"{q}","{a}"\n' for q, a in rows)).encode()
