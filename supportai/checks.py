"""System check of the database: pgvector 0.8 or later (``supportai.E001``), whose ``hnsw.iterative_scan``
dense search sets on every query. A database check, run by ``migrate`` (which then refuses to run) and
``manage.py check --database default``: an external server (``DATABASE_URL``) may carry an older pgvector,
in the database already or as what the first migration would create. A server without pgvector is left to
that migration, which says what to install (``supportai/pgvector_extension.py``)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from django.core.checks import CheckMessage, Error, Tags, register
from django.db import DatabaseError, connections
from django.db.backends.base.base import BaseDatabaseWrapper

PGVECTOR_MINIMUM = "0.8.0"
# installed_version: the extension in this database (None before the first migration); default_version:
# what CREATE EXTENSION vector would create from the server's files.
VERSIONS_SQL = "SELECT installed_version, default_version FROM pg_available_extensions WHERE name = 'vector'"
TOO_OLD_INSTALLED = (
    "pgvector {installed} is installed in database {database!r}; SupportAI needs {minimum} or later "
    "(dense search uses hnsw.iterative_scan): install it on the server, then run "
    "ALTER EXTENSION vector UPDATE; in that database"
)
TOO_OLD_AVAILABLE = (
    "the server's pgvector is {available}, which migrate would create in database {database!r}; SupportAI "
    "needs {minimum} or later (dense search uses hnsw.iterative_scan): install it on the server (Debian and "
    "Ubuntu: the postgresql-<major>-pgvector package from apt.postgresql.org), then run migrate again"
)


def version_key(version: str) -> tuple[int, ...]:
    """``'0.10.1'`` → ``(0, 10, 1)``, so versions compare by their numbers (as strings ``'0.10'`` < ``'0.8'``);
    a suffix after the dotted numbers (``'0.8.0-dev'``) is left out."""
    match = re.match(r"\d+(?:\.\d+)*", version)
    return tuple(int(part) for part in match.group().split(".")) if match else ()


def pgvector_problem(*, installed: str | None, available: str | None, database: str) -> str | None:
    """What is wrong with the pgvector that ``database`` has (``installed``) or would get (``available``)."""
    if installed is not None:
        if version_key(installed) < version_key(PGVECTOR_MINIMUM):
            return TOO_OLD_INSTALLED.format(installed=installed, database=database, minimum=PGVECTOR_MINIMUM)
    elif available is not None and version_key(available) < version_key(PGVECTOR_MINIMUM):
        return TOO_OLD_AVAILABLE.format(available=available, database=database, minimum=PGVECTOR_MINIMUM)
    return None


def pgvector_versions(connection: BaseDatabaseWrapper) -> tuple[str | None, str | None]:
    """The database's pgvector and the server's (``None`` for one it lacks)."""
    with connection.cursor() as cursor:
        cursor.execute(VERSIONS_SQL)
        row = cursor.fetchone()
    return (row[0], row[1]) if row else (None, None)


@register(Tags.database)
def check_pgvector_version(
    app_configs: Any, databases: Sequence[str] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    for alias in databases or ():
        connection = connections[alias]
        if connection.vendor != "postgresql":
            continue
        try:
            installed, available = pgvector_versions(connection)
        except DatabaseError:  # unreachable: migrate says so itself
            continue
        problem = pgvector_problem(installed=installed, available=available, database=connection.settings_dict["NAME"])
        if problem is not None:
            errors.append(Error(problem, id="supportai.E001"))
    return errors
