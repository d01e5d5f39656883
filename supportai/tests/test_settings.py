"""Settings start-up rules, checked in fresh interpreters with controlled environments."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "k8#s2!production-like-secret-key-with-enough-entropy-0123456789-abcdefghijkl",
    "ALLOWED_HOSTS": "support.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://support.example.com",
    "FIELD_ENCRYPTION_KEY": "bXktdGVzdC1maWVsZC1lbmNyeXB0aW9uLWtleS0zMmI=",
}


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "REDIS_URL"}}
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env={**base, **env}, capture_output=True, text=True, timeout=120
    )


def _import_settings(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return _run(["-c", "import supportai.settings"], env)


pytestmark = pytest.mark.slow


def test_production_refuses_to_start_without_secret_key() -> None:
    result = _import_settings({k: v for k, v in PRODUCTION_ENV.items() if k != "SECRET_KEY"})
    assert result.returncode != 0
    assert "SECRET_KEY is required when DEBUG is off" in result.stderr


def test_production_refuses_wildcard_hosts() -> None:
    result = _import_settings({**PRODUCTION_ENV, "ALLOWED_HOSTS": "*"})
    assert result.returncode != 0
    assert "ALLOWED_HOSTS must list the real host names" in result.stderr


def test_production_refuses_to_start_without_encryption_key() -> None:
    result = _import_settings({k: v for k, v in PRODUCTION_ENV.items() if k != "FIELD_ENCRYPTION_KEY"})
    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEY is required" in result.stderr


def test_bad_redis_url_fails_loudly() -> None:
    result = _import_settings({"DEBUG": "1", "REDIS_URL": "http://127.0.0.1:6379"})
    assert result.returncode != 0
    assert "REDIS_URL must use one of the schemes" in result.stderr


def test_check_deploy_with_production_env_prints_no_warnings() -> None:
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout
