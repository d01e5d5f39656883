"""``CREATE EXTENSION vector`` for the first migration, refusing in one line what a server cannot give.

On an external server (``DATABASE_URL``) pgvector may be missing, or the database user may not create
it (it is not a trusted extension: only a superuser may). psycopg's error then reached the operator as
a traceback through ``migrate``; a ``ConfigurationError`` says what to do instead (``supportai.startup``
prints it as one line, status 2).
"""

from __future__ import annotations

from typing import Any

from django.db import DatabaseError
from pgvector.django import VectorExtension as PgvectorExtension

from supportai.env import ConfigurationError

# SQLSTATEs of CREATE EXTENSION: no control file on the server; not allowed to this user.
FEATURE_NOT_SUPPORTED = "0A000"
INSUFFICIENT_PRIVILEGE = "42501"
NOT_INSTALLED = (
    "the PostgreSQL server of database {database!r} ({server}) has no pgvector to create the extension from: "
    "install pgvector 0.8 or later on that server (Debian and Ubuntu: the postgresql-{major}-pgvector package "
    "from apt.postgresql.org), then run migrate again"
)
NOT_ALLOWED = (
    "the database user {user!r} may not create the pgvector extension in database {database!r} ({server}): "
    "have a superuser run CREATE EXTENSION vector; in that database once, then run migrate again"
)


class VectorExtension(PgvectorExtension):
    def database_forwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        try:
            super().database_forwards(app_label, schema_editor, from_state, to_state)
        except DatabaseError as error:
            problem = {FEATURE_NOT_SUPPORTED: NOT_INSTALLED, INSUFFICIENT_PRIVILEGE: NOT_ALLOWED}.get(
                getattr(error.__cause__, "sqlstate", None) or ""
            )
            if problem is None:
                raise
            settings = schema_editor.connection.settings_dict
            raise ConfigurationError(
                problem.format(
                    database=settings["NAME"],
                    user=settings["USER"],
                    server=f"{settings['HOST'] or 'local socket'}:{settings['PORT'] or 5432}",
                    major=schema_editor.connection.pg_version // 10000,
                )
            ) from error
