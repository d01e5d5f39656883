"""Indexes in the documents list's order (title, id) per tenant, per status and per source, so any page
of a large tenant's list is read from an index instead of sorting the tenant's documents
(knowledge/paging.py). Built with ``CREATE INDEX CONCURRENTLY`` and outside a transaction, so uploads,
indexing and the console keep reading and writing documents while they build; the (tenant, status)
index the status one covers is dropped last, also concurrently."""

from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("knowledge", "0017_document_index_settings"),
        ("supportai", "0002_tenant_identity_secret"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="document",
            index=models.Index(fields=["tenant", "title", "id"], name="document_tenant_title"),
        ),
        AddIndexConcurrently(
            model_name="document",
            index=models.Index(fields=["tenant", "status", "title", "id"], name="document_tenant_status_title"),
        ),
        AddIndexConcurrently(
            model_name="document",
            index=models.Index(
                fields=["tenant", "source", "title", "id"],
                include=("chunk_count",),
                name="document_tenant_source_title",
            ),
        ),
        RemoveIndexConcurrently(model_name="document", name="knowledge_d_tenant__336a8e_idx"),
    ]
