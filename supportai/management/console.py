"""How ``manage.py`` ends at the console, whatever the command."""

from __future__ import annotations

import io
import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

INTERRUPTED = "Interrupted: the command stopped before it finished."
# What a shell reports for a process ended by SIGINT (128 + 2).
INTERRUPTED_STATUS = 130
# What a shell reports for a process that wrote to a pipe nobody reads any more (128 + SIGPIPE).
CLOSED_PIPE_STATUS = 141
# What `timeout`, `docker stop`, Kubernetes and a closed terminal or SSH session send. Python ends
# on them without unwinding, so no ``finally`` runs; Ctrl-C's KeyboardInterrupt does unwind.
TERMINATING_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


@contextmanager
def ending_interrupted_commands() -> Iterator[None]:
    """Ctrl-C (``KeyboardInterrupt``) ends the command with one line on stderr and status 130, not a
    traceback. What the command committed before stays (each command's work is idempotent or names
    how to resume, as ``reindex --resume-from``); a command with more to say catches it itself."""
    try:
        yield
    except KeyboardInterrupt:
        sys.stderr.write(f"{INTERRUPTED}\n")
        raise SystemExit(INTERRUPTED_STATUS) from None


@contextmanager
def terminating_signals_exit() -> Iterator[None]:
    """Within the block SIGTERM and SIGHUP raise ``SystemExit(128 + signal)`` in the main thread,
    so the ``finally`` blocks inside it run; the previous handlers are restored when it ends.
    A signal the process ignores stays ignored (``nohup``'s SIGHUP: the run outlives its session),
    and once one has fired both are ignored until the block ends, so a second one (a closed session
    sends SIGHUP twice) cannot stop the clean-up. Outside the main thread, where Python cannot
    install handlers, nothing changes.

    Around every command (``manage.py``) it also lets the process exit as Python does, so its
    ``atexit`` hooks run: the embedded PostgreSQL's leaves the server's list of holders, and the
    server stops if it was the last (``supportai/embedded_db.py``)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: FrameType | None) -> None:
        for number in previous:
            signal.signal(number, signal.SIG_IGN)
        raise SystemExit(128 + signum)

    previous = {
        number: signal.signal(number, stop)
        for number in TERMINATING_SIGNALS
        if signal.getsignal(number) is not signal.SIG_IGN
    }
    try:
        yield
    finally:
        for number, handler in previous.items():
            # None: a handler not installed from Python, which cannot be put back; the default then
            signal.signal(number, signal.SIG_DFL if handler is None else handler)


@contextmanager
def ending_quietly_when_the_reader_leaves() -> Iterator[None]:
    """Output piped to a reader that has gone (``manage.py … | head -1``) ends the command with status
    141 and nothing on stderr, as ``yes | head -1`` ends ``yes``: it was a traceback, or at exit Python's
    "Exception ignored … BrokenPipeError". What is still buffered is written here, inside the handler."""
    try:
        yield
        sys.stdout.flush()
    except BrokenPipeError:
        # The flush at exit would fail again: what is left goes nowhere.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise SystemExit(CLOSED_PIPE_STATUS) from None


def print_names_as_given() -> None:
    """Let stdout write what the command line gave back byte for byte: a file name that is not UTF-8
    (a Latin-1 folder, which Python holds as surrogate escapes) is printed as ``ls`` prints it. A
    console whose locale refuses them (en_US.UTF-8: 'strict') ended a command that had done its work
    ("wrote ...") with a UnicodeEncodeError traceback; the C and C.UTF-8 locales already do this."""
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(errors="surrogateescape")
