"""``manage.py`` as ops run it, in a fresh interpreter: what any of our commands does at the console."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys

import pytest

from supportai.devserver import ROOT

pytestmark = pytest.mark.slow


def _manage(*args: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "REDIS_URL"}}
    return subprocess.Popen(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**env, "DEBUG": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_ctrl_c_stops_a_command_with_one_line_and_the_shell_status() -> None:
    # given a command waiting on a server that accepted its connection and says nothing
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        silent.settimeout(90)
        port = silent.getsockname()[1]
        process = _manage("chat_load", "--url", f"ws://127.0.0.1:{port}/ws/chat/?key=pk_x", "--sessions", "1")
        try:
            connection, _ = silent.accept()
        except TimeoutError:
            process.kill()
            pytest.fail(f"chat_load never connected: {process.communicate()}")
        with connection:
            # when the operator presses Ctrl-C
            process.send_signal(signal.SIGINT)
            _, err = process.communicate(timeout=60)
    # then it stops as a shell reports an interrupted process, with one line and no traceback
    assert process.returncode == 130, err
    assert "Traceback" not in err
    assert err.splitlines() == ["Interrupted: the command stopped before it finished."]
