"""``on_commit_robust``: the call runs once the transaction commits, with its arguments; if it raises,
the error is logged naming the function, never raised."""

from __future__ import annotations

import logging

import pytest

from supportai.transactions import on_commit_robust

pytestmark = pytest.mark.django_db


def _refuse(reason: str, *, code: int) -> None:
    raise ValueError(f"{reason} ({code})")


def test_a_failing_call_after_commit_gets_its_arguments_and_is_logged_by_name(
    django_capture_on_commit_callbacks, caplog
):
    # when
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        on_commit_robust(_refuse, "closed", code=7)

    # then
    assert len(callbacks) == 1
    [record] = [record for record in caplog.records if record.levelno == logging.ERROR]
    assert record.getMessage() == "Error calling _refuse in on_commit() (closed (7))."
