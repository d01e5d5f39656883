"""Query micro-batching: simultaneous requests share a forward pass and each gets its own vector."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import pytest

from knowledge.batching import QueryBatcher
from knowledge.tests.embedders import GatedEncoder


def _gated_encoder() -> GatedEncoder:
    """Encodes text as [len(text)]; the first call waits until the test lets it go."""
    return GatedEncoder(lambda text: [float(len(text))])


def test_requests_queued_during_a_forward_pass_share_the_next_one() -> None:
    # given a batcher whose first forward pass is still running
    encoder = _gated_encoder()
    batcher = QueryBatcher(encoder)
    texts = ["a", "bb", "ccc", "dddd", "eeeee"]
    with ThreadPoolExecutor(max_workers=len(texts) + 1) as pool:
        first = pool.submit(batcher.embed, "first question")
        assert encoder.started.wait(10)
        rest = [pool.submit(batcher.embed, text) for text in texts]
        while batcher._queue.qsize() < len(texts):
            threading.Event().wait(0.01)
        # when the first pass finishes
        encoder.release.set()
        # then the waiting requests were encoded together and each got its own vector
        assert first.result(10) == [14.0]
        assert [f.result(10) for f in rest] == [[1.0], [2.0], [3.0], [4.0], [5.0]]
    assert encoder.batches == [["first question"], texts]
    assert batcher.batches == 2


def test_a_lone_request_is_encoded_at_once() -> None:
    encoder = _gated_encoder()
    encoder.release.set()
    batcher = QueryBatcher(encoder)

    assert batcher.embed("hello") == [5.0]
    assert encoder.batches == [["hello"]]


def test_an_encoder_failure_reaches_every_caller_and_the_worker_survives() -> None:
    calls = {"n": 0}

    def flaky(texts: Sequence[str]) -> list[list[float]]:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("model exploded")
        return [[1.0] for _ in texts]

    batcher = QueryBatcher(flaky)

    with pytest.raises(RuntimeError, match="model exploded"):
        batcher.embed("first")
    assert batcher.embed("second") == [1.0]


def test_batches_are_capped() -> None:
    encoder = _gated_encoder()
    batcher = QueryBatcher(encoder, max_batch=2)
    with ThreadPoolExecutor(max_workers=6) as pool:
        first = pool.submit(batcher.embed, "x")
        assert encoder.started.wait(10)
        rest = [pool.submit(batcher.embed, "y" * n) for n in range(1, 6)]
        while batcher._queue.qsize() < 5:
            threading.Event().wait(0.01)
        encoder.release.set()
        assert [f.result(10) for f in [first, *rest]] == [[1.0], [1.0], [2.0], [3.0], [4.0], [5.0]]
    assert all(len(batch) <= 2 for batch in encoder.batches)


def test_a_wrong_number_of_vectors_fails_the_batch_instead_of_leaving_callers_waiting() -> None:
    calls = {"n": 0}

    def short(texts: Sequence[str]) -> list[list[float]]:
        calls["n"] += 1
        return [] if calls["n"] == 1 else [[1.0] for _ in texts]

    batcher = QueryBatcher(short)

    with ThreadPoolExecutor(max_workers=1) as pool:
        first = pool.submit(batcher.embed, "first")
        with pytest.raises(ValueError, match="returned 0 vectors for 1 queries"):
            first.result(timeout=10)  # before the fix the worker died and this waited forever
    assert batcher.embed("second") == [1.0]
