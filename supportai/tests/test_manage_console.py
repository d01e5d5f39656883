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


def test_a_command_prints_a_file_name_that_is_not_utf8_as_the_shell_gave_it(tmp_path) -> None:
    # given a Latin-1 file name (Python holds its byte as a surrogate escape) and a console whose
    # encoding refuses those, as an en_US.UTF-8 locale's does
    data = tmp_path / "bitext.csv"
    data.write_text("instruction,intent,response,category,flags\nI want a person,contact_human_agent,ok,C,B\n")
    out = os.fsdecode(bytes(tmp_path) + b"/caf\xe9.jsonl")
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "REDIS_URL"}}
    # when a command writes it and then names it on stdout
    result = subprocess.run(
        [sys.executable, "manage.py", "bitext_escalation_jsonl", "--csv", str(data), "--out", out],
        cwd=ROOT,
        env={**env, "DEBUG": "1", "PYTHONIOENCODING": "utf-8"},
        capture_output=True,
        timeout=120,
    )
    # then it ends well, naming the file by the bytes it has
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    assert result.stdout.startswith(b"wrote " + os.fsencode(out) + b": 1 escalate")


@pytest.mark.parametrize("unbuffered", ["1", ""], ids=["written-at-once", "buffered"])
def test_a_command_whose_reader_left_ends_quietly_with_the_shell_status(tmp_path, unbuffered: str) -> None:
    # given a command's output piped to a reader that has already gone (`manage.py … | head -1`
    # once head has its line): every write to the pipe fails
    data = tmp_path / "bitext.csv"
    data.write_text("instruction,intent,response,category,flags\nI want a person,contact_human_agent,ok,C,B\n")
    read_end, write_end = os.pipe()
    os.close(read_end)
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "REDIS_URL", "PYTHONUNBUFFERED"}}
    # when the command writes its result
    try:
        result = subprocess.run(
            [sys.executable, "manage.py", "bitext_escalation_jsonl", "--csv", str(data), "--out", str(tmp_path / "b")],
            cwd=ROOT,
            env={**env, "DEBUG": "1", "PYTHONUNBUFFERED": unbuffered},
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
        )
    finally:
        os.close(write_end)
    # then it ends as a shell reports a process that wrote to a closed pipe (128 + SIGPIPE), with
    # nothing on stderr: the reader took what it wanted
    assert (result.returncode, result.stderr) == (141, "")
