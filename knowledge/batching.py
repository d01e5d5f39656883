"""Micro-batching of query embeddings: simultaneous questions share one forward pass.

Chat turns arrive concurrently; embedding each query alone wastes most of a forward pass on
per-call overhead. ``QueryBatcher`` hands every request to one worker thread, which takes whatever
has queued up while it was busy and encodes it as a single batch. An idle system adds no waiting
(a lone request is encoded at once); a busy one amortizes the model call over all waiting turns.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass

Encode = Callable[[Sequence[str]], list[list[float]]]
MAX_BATCH = 64


@dataclass(frozen=True)
class _Request:
    text: str
    result: Future[list[float]]


class QueryBatcher:
    def __init__(self, encode: Encode, *, max_batch: int = MAX_BATCH, name: str = "query-batcher") -> None:
        self._encode = encode
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[_Request] = queue.SimpleQueue()
        self._name = name
        self._worker: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self.batches = 0  # forward passes run (observability and tests)

    def embed(self, text: str) -> list[float]:
        request = _Request(text, Future())
        self._ensure_worker()
        self._queue.put(request)
        return request.result.result()

    def _ensure_worker(self) -> None:
        if self._worker is not None and self._worker.is_alive():
            return
        with self._start_lock:
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._worker.start()

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            while len(batch) < self._max_batch:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self._encode_batch(batch)

    def _encode_batch(self, batch: list[_Request]) -> None:
        try:
            vectors = self._encode([request.text for request in batch])
            if len(vectors) != len(batch):
                raise ValueError(f"the encoder returned {len(vectors)} vectors for {len(batch)} queries")
        except BaseException as exc:  # every waiting caller gets the error; the worker lives on
            for request in batch:
                request.result.set_exception(exc)
            return
        finally:
            self.batches += 1
        for request, vector in zip(batch, vectors, strict=True):
            request.result.set_result(vector)
