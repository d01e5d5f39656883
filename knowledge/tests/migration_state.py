"""Migration tests: the database taken to one of knowledge's migrations, and its models as of then."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.migrations.executor import MigrationExecutor


@dataclass(frozen=True)
class KnowledgeModels:
    """knowledge's source and document models, and a tenant, as of one migration."""

    tenant: Any
    source: Any
    document: Any


# Whether a test has taken knowledge off its latest migration (``latest_knowledge_schema`` in
# conftest.py takes it back after that test, so the tests after it see every column).
MOVED: list[str] = []


def migrate_knowledge_to(migration: str) -> KnowledgeModels:
    """Migrate knowledge to ``migration`` (back or forward) and return its models as of then, with
    a tenant "Old" (created on the first call, found on the next)."""
    target = [("knowledge", migration)]
    executor = MigrationExecutor(connection)
    MOVED.append(migration)
    executor.migrate(target)
    apps = executor.loader.project_state(target).apps
    tenant, _ = apps.get_model("supportai", "Tenant").objects.get_or_create(slug="old", defaults={"name": "Old"})
    return KnowledgeModels(
        tenant=tenant,
        source=apps.get_model("knowledge", "KnowledgeSource"),
        document=apps.get_model("knowledge", "Document"),
    )


def migrate_knowledge_to_latest() -> None:
    """Take knowledge back to its latest migration after a test moved it (``MOVED``)."""
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes("knowledge"))
    MOVED.clear()
