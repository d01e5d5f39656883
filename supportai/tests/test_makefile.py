"""Makefile targets that touch data, run in a scratch directory so the checkout's own data is never at risk."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _clean_data(cwd: Path, **env: str) -> None:
    base = {k: v for k, v in os.environ.items() if k != "SUPPORTAI_DATA_DIR"}
    subprocess.run(
        ["make", "--no-print-directory", "-f", str(ROOT / "Makefile"), "-C", str(cwd), "clean-data"],
        env={**base, **env},
        check=True,
        capture_output=True,
        timeout=60,
    )


def _data_dir(path: Path) -> Path:
    (path / "pgdata").mkdir(parents=True)
    (path / "pgdata" / "PG_VERSION").write_text("18\n")
    return path


def test_clean_data_removes_the_configured_data_dir(tmp_path: Path) -> None:
    # given the default data directory and another one named by SUPPORTAI_DATA_DIR
    default = _data_dir(tmp_path / ".data")
    configured = _data_dir(tmp_path / "elsewhere" / "data")

    # when
    _clean_data(tmp_path, SUPPORTAI_DATA_DIR=str(configured))

    # then only the configured one is gone
    assert not configured.exists()
    assert (default / "pgdata" / "PG_VERSION").exists()


def test_clean_data_without_the_variable_removes_dot_data(tmp_path: Path) -> None:
    default = _data_dir(tmp_path / ".data")
    _clean_data(tmp_path)
    assert not default.exists()


def test_clean_data_refuses_while_the_embedded_server_runs(tmp_path: Path) -> None:
    # given a data directory whose server is running (its postmaster.pid names a live process)
    data = _data_dir(tmp_path / ".data")
    (data / "pgdata" / "postmaster.pid").write_text(f"{os.getpid()}\n{data / 'pgdata'}\n")
    base = {k: v for k, v in os.environ.items() if k != "SUPPORTAI_DATA_DIR"}
    # when
    result = subprocess.run(
        ["make", "--no-print-directory", "-f", str(ROOT / "Makefile"), "-C", str(tmp_path), "clean-data"],
        env=base,
        capture_output=True,
        text=True,
        timeout=60,
    )
    # then nothing is removed from under it, and the operator is told what to stop
    assert result.returncode != 0
    assert f"the embedded PostgreSQL (pid {os.getpid()}) is running on .data" in result.stderr
    assert f"kill -INT {os.getpid()}" in result.stderr
    assert (data / "pgdata" / "PG_VERSION").exists()


def test_clean_data_removes_a_data_dir_left_by_a_server_that_died(tmp_path: Path) -> None:
    # given a postmaster.pid naming a process that has ended (a crash, a killed machine)
    data = _data_dir(tmp_path / ".data")
    gone = subprocess.Popen(["true"])
    gone.wait()
    (data / "pgdata" / "postmaster.pid").write_text(f"{gone.pid}\n")
    # when
    _clean_data(tmp_path)
    # then
    assert not data.exists()
