"""How ``manage.py`` ends at the console, whatever the command."""

from __future__ import annotations

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
