"""Fixtures for routing tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from routing import registry
from routing.breaker import BREAKERS
from routing.tests.http_fake import FakeVendor


@pytest.fixture
def vendor() -> Iterator[FakeVendor]:
    with FakeVendor() as fake:
        yield fake


@pytest.fixture(autouse=True)
def _fresh_providers() -> Iterator[None]:
    """Providers read their keys at construction and breakers are process-wide: reset both per test."""
    registry.reset()
    BREAKERS.breakers.clear()
    yield
    registry.reset()
    BREAKERS.breakers.clear()
