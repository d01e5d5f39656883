"""An external server's pgvector older than 0.8 (no ``hnsw.iterative_scan``, which dense search sets) is
refused by ``migrate``'s database check in one line naming both versions."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection

from supportai.checks import check_pgvector_version, pgvector_problem, pgvector_versions, version_key
from supportai.tests.test_settings import _run

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("older", "newer"),
    [("0.7.4", "0.8.0"), ("0.8.0", "0.8.1"), ("0.9.9", "0.10.1"), ("0.8", "0.8.0"), ("0.8.0-dev", "0.8.1")],
)
def test_version_key_orders_versions_by_their_numbers(older: str, newer: str) -> None:
    assert version_key(older) < version_key(newer)


@pytest.mark.parametrize("installed", ["0.8.0", "0.8.5", "0.10.1", "1.0.0"])
def test_pgvector_problem_takes_0_8_and_later(installed: str) -> None:
    assert pgvector_problem(installed=installed, available=installed, database="supportai") is None


def test_pgvector_problem_names_the_installed_version_and_the_needed_one() -> None:
    # when the database's extension is 0.7.4 though the server has 0.8.1's files
    problem = pgvector_problem(installed="0.7.4", available="0.8.1", database="supportai")
    # then
    assert problem is not None
    assert "\n" not in problem
    assert "pgvector 0.7.4 is installed in database 'supportai'" in problem
    assert "needs 0.8.0 or later" in problem
    assert "ALTER EXTENSION vector UPDATE;" in problem


def test_pgvector_problem_before_the_extension_is_created_names_the_servers_version() -> None:
    # when the first migrate would create the extension from the server's 0.7.0
    problem = pgvector_problem(installed=None, available="0.7.0", database="supportai")
    # then
    assert problem is not None
    assert "\n" not in problem
    assert "the server's pgvector is 0.7.0" in problem
    assert "needs 0.8.0 or later" in problem


def test_pgvector_problem_leaves_a_server_without_pgvector_to_the_extension_migration() -> None:
    assert pgvector_problem(installed=None, available=None, database="supportai") is None


def test_pgvector_versions_reads_what_the_database_has() -> None:
    # given the real server
    with connection.cursor() as cursor:
        cursor.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
        (extversion,) = cursor.fetchone()
    # when / then
    installed, available = pgvector_versions(connection)
    assert installed == extversion
    assert available is not None
    assert version_key(available) >= version_key(extversion)


@pytest.mark.slow
def test_the_check_runs_with_the_database_checks_migrate_runs() -> None:
    # given a process that set Django up and imported nothing of ours by hand
    script = (
        "import django; django.setup(); from django.core.checks import Tags, registry;"
        "print(sorted(check.__name__ for check in registry.registry.get_checks() if Tags.database in check.tags))"
    )
    # when / then
    result = _run(["-c", script], {"DEBUG": "1", "DJANGO_SETTINGS_MODULE": "supportai.settings"})
    assert result.returncode == 0, result.stderr
    assert "check_pgvector_version" in result.stdout


def test_the_database_check_passes_on_the_real_server() -> None:
    assert check_pgvector_version(None, databases=["default"]) == []
    assert check_pgvector_version(None, databases=None) == []
    call_command("check", "--database", "default")
