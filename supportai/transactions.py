"""Work run once the caller's transaction commits."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import ParamSpec

from django.db import transaction

P = ParamSpec("P")


def on_commit_robust(fn: Callable[P, object], /, *args: P.args, **kwargs: P.kwargs) -> None:
    """Call ``fn(*args, **kwargs)`` once the current transaction commits (at once outside one); an
    exception it raises is logged by Django naming ``fn``, never raised to whoever committed.

    Not ``transaction.on_commit(partial(fn, ...), robust=True)``: Django names a robust callback that
    failed by its ``__qualname__``, which a partial lacks, so the failure escaped as an AttributeError."""

    @wraps(fn)
    def call() -> None:
        fn(*args, **kwargs)

    transaction.on_commit(call, robust=True)
