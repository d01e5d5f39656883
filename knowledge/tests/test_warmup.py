"""The server loads the local model at start-up, so the first customer does not wait for it."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from knowledge import conf
from knowledge.providers import local
from knowledge.warmup import warm_up_in_background


def _settings(monkeypatch: pytest.MonkeyPatch, **changes: Any) -> None:
    monkeypatch.setattr(conf, "SETTINGS", dataclasses.replace(conf.SETTINGS, **changes))


@pytest.mark.slow
def test_warm_up_loads_and_traces_the_local_model(monkeypatch: pytest.MonkeyPatch) -> None:
    # given a process whose traced encoder has not been built yet
    _settings(monkeypatch, warm_up=True, embedding_provider="local")
    monkeypatch.setattr(local, "_encoder", None)

    # when the server warms up
    thread = warm_up_in_background()

    # then a background thread builds it, with no question asked
    assert thread is not None
    thread.join(120)
    assert not thread.is_alive()
    assert local._encoder is not None


@pytest.mark.parametrize("changes", [{"warm_up": False}, {"warm_up": True, "embedding_provider": "openai"}])
def test_no_warm_up_when_off_or_remote(monkeypatch: pytest.MonkeyPatch, changes: dict[str, Any]) -> None:
    _settings(monkeypatch, **changes)

    assert warm_up_in_background() is None
