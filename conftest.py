"""Fixtures shared by every app's tests: two tenants and staff of each role."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.management import load_command_class

from supportai.devserver import ROOT, free_port, production_env, start_daphne, stop
from supportai.models import Membership, Role, Tenant
from supportai.tests.command_modules import our_commands
from supportai.tests.factories import MembershipFactory, TenantFactory, UserFactory
from supportai.tests.silent_socket import accepting_silently

pytest_plugins = ["supportai.tests.throwaway_redis"]  # throwaway_redis, throwaway_layer: a Redis a test may stop


@pytest.fixture(autouse=True)
def _database_pool(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test's async database calls (``supportai.db.db_call``) run on a pool of its own, and the
    test ends when every one of them has returned, before its database is flushed.

    A call on a pool thread cannot be cancelled: a turn cancelled mid-call (its socket closed, or a
    held retrieval released as the test ends) leaves the call running. Still querying while the test
    database was flushed (TRUNCATE), it could deadlock the flush, or it ran in the next test."""
    pool = ThreadPoolExecutor(max_workers=settings.DB_ASYNC_THREADS, thread_name_prefix="db")
    monkeypatch.setattr("supportai.db.DB_EXECUTOR", pool)
    yield
    pool.shutdown(wait=True)


@pytest.fixture(scope="session", autouse=True)
def _management_commands_imported() -> None:
    """Every management command of our apps, imported before the first test runs.

    A command binds what it imports under its own name (``from knowledge.services import
    default_provider``). Imported for the first time by ``call_command`` while a test patches the
    name it imports, it would keep the patched object for every later test in the process."""
    for name, app in our_commands().items():
        load_command_class(app, name)


@pytest.fixture(scope="session")
def embedding_model_loaded() -> None:
    """The local query embedding model, loaded once per test session before a test starts its timed waits.

    The first retrieval in a process loads it (seconds of CPU; on a loaded machine more than a socket
    test waits for an answer, 30 s), so the first test to ask a question would time out. Tests whose
    answers retrieve over a websocket request this (chat's ``connect`` does); tests that never
    retrieve do not pay for the model."""
    from knowledge import conf
    from knowledge.indexing import default_provider
    from knowledge.warmup import WARM_UP_QUERY

    if conf.SETTINGS.embedding_provider == "local":
        default_provider().embed_query(WARM_UP_QUERY)


@pytest.fixture
def tenant(db: None) -> Tenant:
    return TenantFactory.create(name="Alpha Clinic", slug="alpha")


@pytest.fixture
def other_tenant(db: None) -> Tenant:
    return TenantFactory.create(name="Bravo Spa", slug="bravo")


def _member(tenant: Tenant, role: Role, username: str, *, is_staff: bool = False) -> Membership:
    user = UserFactory.create(username=username, is_staff=is_staff)
    membership: Membership = MembershipFactory.create(user=user, tenant=tenant, role=role)
    return membership


@pytest.fixture
def owner(tenant: Tenant) -> User:
    return _member(tenant, Role.OWNER, "alice", is_staff=True).user


@pytest.fixture
def agent(tenant: Tenant) -> User:
    return _member(tenant, Role.AGENT, "bob", is_staff=True).user


@pytest.fixture
def outsider(other_tenant: Tenant) -> User:
    """Owner of the *other* tenant: must never see ``tenant``'s data."""
    return _member(other_tenant, Role.OWNER, "charlie", is_staff=True).user


def _redis_reachable(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def redis_url() -> str:
    """A real Redis for tests marked ``redis``. CI sets REQUIRE_REDIS_TESTS=1: there it must exist."""
    url = os.environ.get("REDIS_URL_TEST", "redis://127.0.0.1:6379/15")
    if not _redis_reachable(url):
        message = f"no Redis reachable at {url} (set REDIS_URL_TEST or start redis-server)"
        if os.environ.get("REQUIRE_REDIS_TESTS"):
            pytest.fail(message)
        pytest.skip(message)
    return url


def _test_database_url() -> str:
    from django.db import connection

    params = connection.get_connection_params()
    host = params.get("host", "")
    name = connection.settings_dict["NAME"]
    if host.startswith("/"):
        return f"postgres://{params.get('user', 'postgres')}@/{name}?host={host}"
    password = params.get("password", "")
    return f"postgres://{params.get('user', '')}:{password}@{host}:{params.get('port', 5432)}/{name}"


def _serve(env: dict[str, str]) -> Iterator[str]:
    try:
        process = start_daphne(port := free_port(), env={"DATABASE_URL": _test_database_url(), **env})
    except RuntimeError as exc:
        pytest.fail(str(exc))
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)


@pytest.fixture
def daphne_server(request: pytest.FixtureRequest, transactional_db: None) -> Iterator[str]:
    """A real daphne process on a free loopback port, using the test database; yields its base URL.

    Rows the test commits (the fixture implies ``transactional_db``) are visible to the server. A
    ``@pytest.mark.daphne_env(NAME="value")`` on the test sets environment variables for the server.
    """
    marker = request.node.get_closest_marker("daphne_env")
    yield from _serve(dict(marker.kwargs) if marker else {})


@pytest.fixture(scope="session")
def collected_static() -> None:
    """``collectstatic`` as a deployment runs it (DEBUG off: hashed names and their manifest)."""
    command = [sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"]
    subprocess.run(command, cwd=ROOT, env={**os.environ, **production_env()}, check=True)


@pytest.fixture
def production_daphne_server(transactional_db: None, collected_static: None) -> Iterator[str]:
    """``daphne_server`` with ``DEBUG`` off, as deployed: Django's own error pages (handler400 and the
    like) and static files from ``collectstatic``."""
    yield from _serve(production_env())


@pytest.fixture
def test_database_url(transactional_db: None) -> str:
    """The test database as a URL, for a server the test starts itself (``start_daphne``, to read its log)."""
    return _test_database_url()


@pytest.fixture
def silent_redis(tmp_path: Path) -> Iterator[str]:
    """A Unix socket that accepts connections and never answers (a Redis that hangs, or a dropped
    network path): the cache's URL on it. Closed after the test, which ends any call still waiting."""
    path = tmp_path / "silent-redis.sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(16)
    with accepting_silently(server):
        yield f"unix://{path}"
