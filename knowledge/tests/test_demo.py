from __future__ import annotations

from knowledge.demo import CONTENT_DIR, SOURCE_NAME, demo_source, seed_demo_knowledge
from knowledge.models import Document, DocumentStatus, KnowledgeSource, SourceKind
from knowledge.selectors import retrieve
from knowledge.tests.factories import add_document


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


def test_demo_leaves_a_website_or_upload_source_of_the_same_name_alone(tenant):
    # given the tenant already has a website source and then an upload source named "Help centre"
    website = KnowledgeSource.objects.create(
        tenant=tenant, name=SOURCE_NAME, kind=SourceKind.URL, config={"start_url": "https://help.example.com/"}
    )
    page = add_document(tenant, "Help", "Our own help page.", external_id="https://help.example.com/", source=website)
    uploads = KnowledgeSource.objects.create(tenant=tenant, name=f"{SOURCE_NAME} (demo)", kind=SourceKind.UPLOAD)
    upload = add_document(tenant, "Notes", "Our own notes.", external_id="notes.md", source=uploads)
    # when
    seed_demo_knowledge(tenant)
    seed_demo_knowledge(tenant)
    # then the demo has an upload source of its own, and theirs keep their kind, settings and pages
    demo = demo_source(tenant)
    articles = len(list(CONTENT_DIR.glob("*.md")))
    assert (
        demo.kind == SourceKind.UPLOAD and demo.name == f"{SOURCE_NAME} (demo 2)" and demo.documents.count() == articles
    )
    website.refresh_from_db()
    assert website.kind == SourceKind.URL and website.config["start_url"] == "https://help.example.com/"
    assert list(website.documents.all()) == [page] and list(uploads.documents.all()) == [upload]
    assert KnowledgeSource.objects.for_tenant(tenant).count() == 3


def test_demo_source_is_never_another_tenants(tenant, other_tenant):
    theirs = demo_source(other_tenant)

    mine = demo_source(tenant)

    assert mine.pk != theirs.pk and mine.tenant_id == tenant.pk and mine.name == SOURCE_NAME
    assert demo_source(tenant).pk == mine.pk
