from __future__ import annotations

from knowledge.demo import CONTENT_DIR, seed_demo_knowledge
from knowledge.models import Document, DocumentStatus
from knowledge.selectors import retrieve


def test_demo_help_centre_is_realistic_and_seeding_is_idempotent(tenant):
    articles = sorted(CONTENT_DIR.glob("*.md"))
    assert len(articles) >= 25
    first = seed_demo_knowledge(tenant)
    assert f"{len(articles)} help-centre articles ({len(articles)} created, 0 removed)" in first
    assert Document.objects.for_tenant(tenant).filter(status=DocumentStatus.READY).count() == len(articles)
    assert all(d.url.startswith("https://juniper-sage.example/help/") for d in Document.objects.for_tenant(tenant))
    second = seed_demo_knowledge(tenant)
    assert f"({len(articles)} unchanged, 0 removed)" in second


def test_demo_exact_identifiers_are_retrievable(tenant):
    seed_demo_knowledge(tenant)
    assert retrieve(tenant=tenant, query="JS-PAY-402", k=1)[0].title == "Payment and booking error codes"
    assert retrieve(tenant=tenant, query="policy POL-HLT-01", k=1)[0].title.startswith("Health, illness")
