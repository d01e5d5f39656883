"""Start a real daphne on a free loopback port (tests and benchmarks drive the full ASGI stack)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT_S = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def production_env() -> dict[str, str]:
    """Settings for a server with ``DEBUG`` off that shares this process's database and keys.

    Benchmarks measure what production runs: no SQL debug cursor, no development conveniences.
    """
    from django.conf import settings

    from supportai.crypto import field_keys

    return {
        "DEBUG": "0",
        "SECRET_KEY": settings.SECRET_KEY,
        "FIELD_ENCRYPTION_KEYS": ",".join(field_keys()),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",
    }


def start_daphne(port: int, *, env: Mapping[str, str] | None = None) -> subprocess.Popen[bytes]:
    """Launch daphne on 127.0.0.1:``port`` and return once it accepts connections.

    ``env`` is added to this process's environment. Raises ``RuntimeError`` (with daphne's stderr
    when it exited) if the server does not listen within ``START_TIMEOUT_S``.
    """
    process = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "supportai.asgi:application"],
        cwd=ROOT,
        env={**os.environ, "DEBUG": "1", **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            stderr = process.stderr.read().decode(errors="replace") if process.stderr else ""
            raise RuntimeError(f"daphne exited early: {stderr}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"daphne did not listen on port {port} within {START_TIMEOUT_S:.0f} s")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
