"""Racing a duplicate: the model's constraint check passes as if a twin request saved the same row just after it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

from django.db.models import Model


@contextmanager
def checks_passed(model: type[Model], times: int) -> Iterator[None]:
    """``model``'s duplicate check passing its first ``times`` calls, as it does for a request whose twin
    saves the same row between this request's check and its save; checked for real after that."""
    real = model.validate_constraints
    calls: list[Model] = []

    def check(instance: Model, exclude: Any = None) -> None:
        calls.append(instance)
        if len(calls) > times:
            real(instance, exclude=exclude)

    with mock.patch.object(model, "validate_constraints", check):
        yield
