"""How ``manage.py`` ends at the console, whatever the command."""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from contextlib import contextmanager

INTERRUPTED = "Interrupted: the command stopped before it finished."
# What a shell reports for a process ended by SIGINT (128 + 2).
INTERRUPTED_STATUS = 130


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


def print_names_as_given() -> None:
    """Let stdout write what the command line gave back byte for byte: a file name that is not UTF-8
    (a Latin-1 folder, which Python holds as surrogate escapes) is printed as ``ls`` prints it. A
    console whose locale refuses them (en_US.UTF-8: 'strict') ended a command that had done its work
    ("wrote ...") with a UnicodeEncodeError traceback; the C and C.UTF-8 locales already do this."""
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(errors="surrogateescape")
