"""Fixtures shared by every app's tests: two tenants and staff of each role."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import User

from supportai.models import Membership, Role, Tenant
from supportai.tests.factories import MembershipFactory, TenantFactory, UserFactory

PASSWORD = "correct-horse-battery"
ROOT = Path(__file__).resolve().parent


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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _test_database_url() -> str:
    from django.db import connection

    params = connection.get_connection_params()
    host = params.get("host", "")
    name = connection.settings_dict["NAME"]
    if host.startswith("/"):
        return f"postgres://{params.get('user', 'postgres')}@/{name}?host={host}"
    password = params.get("password", "")
    return f"postgres://{params.get('user', '')}:{password}@{host}:{params.get('port', 5432)}/{name}"


@pytest.fixture
def daphne_server(transactional_db: None) -> Iterator[str]:
    """A real daphne process on a free loopback port, using the test database; yields its base URL.

    Rows the test commits (the fixture implies ``transactional_db``) are visible to the server.
    """
    port = _free_port()
    env = {**os.environ, "DEBUG": "1", "DATABASE_URL": _test_database_url()}
    process = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "supportai.asgi:application"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"daphne exited early: {process.stderr.read() if process.stderr else ''}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("daphne did not start listening within 60 s")
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
