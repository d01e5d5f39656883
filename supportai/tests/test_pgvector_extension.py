"""The first migration's ``CREATE EXTENSION vector`` on a server that cannot give it (README "Running on
real PostgreSQL and Redis"): one line saying what to do, not psycopg's traceback."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.state import ProjectState

from supportai.env import ConfigurationError
from supportai.pgvector_extension import VectorExtension

pytestmark = pytest.mark.django_db


def _create_extension(operation: VectorExtension, on: BaseDatabaseWrapper) -> None:
    state = ProjectState()
    # Not atomic: Django's transactions know only its configured connections, and migrate runs the
    # migration's own transaction around the operation anyway.
    with on.schema_editor(atomic=False) as editor:
        operation.database_forwards("supportai", editor, state, state)


def _superuser_connection() -> psycopg.Connection:
    settings = connection.settings_dict
    return psycopg.connect(
        host=settings["HOST"] or None,
        port=settings["PORT"] or None,
        user=settings["USER"],
        password=settings["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    )


@pytest.fixture
def limited_user_database() -> Iterator[BaseDatabaseWrapper]:
    """A fresh database (no extensions) and a connection to it as a user who is no superuser."""
    name = f"supportai_limited_{uuid.uuid4().hex[:8]}"
    with _superuser_connection() as admin:
        admin.execute(f'CREATE ROLE "{name}" LOGIN')
        admin.execute(f'CREATE DATABASE "{name}" OWNER "{name}"')
    # Not one of Django's configured connections: the test's own database stays the only one it may use.
    limited = type(connections[DEFAULT_DB_ALIAS])({**connection.settings_dict, "NAME": name, "USER": name}, alias=name)
    try:
        yield limited
    finally:
        limited.close()
        with _superuser_connection() as admin:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            admin.execute(f'DROP ROLE "{name}"')


def test_vector_extension_missing_from_the_server_says_what_to_install() -> None:
    # given a server without the extension's files (an extension name no server has stands for
    # pgvector not installed: PostgreSQL answers both alike)
    operation = VectorExtension()
    operation.name = "supportai_not_installed"
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('server_version_num')::int / 10000")
        (major,) = cursor.fetchone()
    # when
    with pytest.raises(ConfigurationError) as refused:
        _create_extension(operation, connection)
    # then
    message = str(refused.value)
    assert "\n" not in message
    assert f"database {connection.settings_dict['NAME']!r}" in message
    assert "has no pgvector" in message
    assert f"postgresql-{major}-pgvector" in message
    assert message.endswith("then run migrate again")


def test_vector_extension_the_user_may_not_create_says_who_must(limited_user_database: BaseDatabaseWrapper) -> None:
    # given a database user who owns their database but is no superuser (pgvector is not a trusted extension)
    name = limited_user_database.settings_dict["NAME"]
    # when
    with pytest.raises(ConfigurationError) as refused:
        _create_extension(VectorExtension(), limited_user_database)
    # then
    message = str(refused.value)
    assert "\n" not in message
    assert f"the database user {name!r} may not create the pgvector extension in database {name!r}" in message
    assert "have a superuser run CREATE EXTENSION vector; in that database once, then run migrate again" in message
