"""Moving the test database's ``bookings`` schema to a migration and back, for the data migrations' tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db import connection
from django.db.migrations.executor import MigrationExecutor


def migrate(target: list[tuple[str, str]]) -> Any:
    """Migrate to ``target``; the historical apps there (their models as that migration knew them)."""
    executor = MigrationExecutor(connection)
    executor.migrate(target)
    return executor.loader.project_state(target).apps


def at_migration(target: list[tuple[str, str]]) -> Iterator[Any]:
    """For a fixture: the apps at ``target``, then the schema back at the latest ``bookings`` migration."""
    apps = migrate(target)
    yield apps
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes("bookings"))
