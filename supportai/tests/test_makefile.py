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
