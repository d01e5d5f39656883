"""How the entry points (manage.py, the ASGI and WSGI apps, Celery) refuse a bad environment.

Ops reading a start-up failure need the variable and what is wrong with it, not a Python traceback.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from supportai.env import TRUE_VALUES, ConfigurationError

MESSAGE_PREFIX = "SupportAI configuration error: "
EXIT_STATUS = 2
# Set to 1 to see where a ConfigurationError was raised (its traceback, as before).
TRACEBACK_VARIABLE = "SUPPORTAI_STARTUP_TRACEBACK"


@contextmanager
def refusing_bad_configuration() -> Iterator[None]:
    """A ``ConfigurationError`` inside ends the process: its message on one stderr line, exit status 2.

    Every other exception passes through with its traceback.
    """
    try:
        yield
    except ConfigurationError as error:
        if _traceback_requested():
            raise
        sys.stderr.write(f"{MESSAGE_PREFIX}{error}\n")
        raise SystemExit(EXIT_STATUS) from None


def _traceback_requested() -> bool:
    # Read leniently: this runs while reporting a bad environment and must not fail on one more value.
    return os.environ.get(TRACEBACK_VARIABLE, "").strip().lower() in TRUE_VALUES
