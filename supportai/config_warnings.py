"""Warnings about a tenant's configuration, logged at most once an hour per tenant and kind in a process.

A tenant without an address for its notifications is a state its staff fix, not an error of ours: it
is a WARNING, and one line an hour, not one per email (each failed email is recorded where staff see
it: the booking's emails on the console, the escalation's notification deliveries).
"""

from __future__ import annotations

import logging
import threading
import time

INTERVAL_S = 3600.0
clock = time.monotonic  # the tests move it on
_last_logged: dict[tuple[str, int], float] = {}
_lock = threading.Lock()


def warn_hourly(logger: logging.Logger, kind: str, tenant_id: int, message: str, *args: object) -> None:
    """Log ``message % args`` at WARNING unless ``kind`` was logged for the tenant in the last hour."""
    now = clock()
    with _lock:
        last = _last_logged.get((kind, tenant_id))
        if last is not None and now - last < INTERVAL_S:
            return
        _last_logged[(kind, tenant_id)] = now
    logger.warning(message, *args)
