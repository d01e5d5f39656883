"""Passages may be embedded in bf16 (hardware matrix units); the vectors stay those of fp32."""

from __future__ import annotations

import dataclasses
import json
from itertools import islice

import pytest
import torch

from knowledge import conf
from knowledge.providers import local
from knowledge.providers.local import LocalEmbeddingProvider, passage_precision
from knowledge.tests.encoder_spy import record_padded_widths
from supportai.datasets import COVID_FAQ

pytestmark = pytest.mark.slow


def _precision(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setattr(conf, "SETTINGS", dataclasses.replace(conf.SETTINGS, local_passage_precision=value))


def test_bf16_passages_are_the_fp32_vectors_to_cosine_0_9999(monkeypatch: pytest.MonkeyPatch) -> None:
    # given real FAQ answers of mixed lengths (some past the model's 256 word pieces)
    with (COVID_FAQ / "corpus.jsonl").open(encoding="utf-8") as lines:
        texts = [json.loads(line)["text"] for line in islice(lines, 48)]
    provider = LocalEmbeddingProvider()

    # when they are embedded in each precision
    _precision(monkeypatch, "fp32")
    exact = torch.tensor(provider.embed_documents(texts))
    _precision(monkeypatch, "bf16")
    fast = torch.tensor(provider.embed_documents(texts))

    # then every bf16 vector is unit length and points where the fp32 one does
    assert fast.shape == exact.shape == (len(texts), 384)
    assert torch.allclose(fast.norm(dim=1), torch.ones(len(texts)), atol=1e-4)
    assert float((fast * exact).sum(dim=1).min()) >= 0.9999
    assert not torch.equal(fast, exact)  # bf16 really ran


def test_bf16_passage_batches_are_padded_to_whole_tiles(monkeypatch: pytest.MonkeyPatch) -> None:
    # given the bf16 passage encoder, watched as it pads its batches
    widths = record_padded_widths(local.load_bf16_encoder(), monkeypatch)
    _precision(monkeypatch, "bf16")

    # when two batches of passages of 3 to 40-odd word pieces are embedded
    LocalEmbeddingProvider().embed_documents(["Wash hands."] * 16 + ["Masks " * 40, "How long does it live?"])

    # then each batch runs at its longest passage (42 and 5 pieces) rounded up to a multiple of 16
    assert widths == [48, 16]


def test_the_bf16_passage_graph_leaves_the_query_model_in_fp32(monkeypatch: pytest.MonkeyPatch) -> None:
    # given a query embedded before any bf16 passage work
    provider = LocalEmbeddingProvider()
    before = provider.embed_query("how long does the virus survive on surfaces?")

    # when passages are embedded in bf16 (the bfloat16 copy of the weights is built)
    _precision(monkeypatch, "bf16")
    provider.embed_documents(["Wash your hands often with soap and water for at least 20 seconds."])

    # then the model that embeds queries still holds fp32 weights and gives the same vector
    assert {parameter.dtype for parameter in local.load_model().parameters()} == {torch.float32}
    assert provider.embed_query("how long does the virus survive on surfaces?") == before


def test_auto_precision_uses_bf16_only_where_the_cpu_has_it(monkeypatch: pytest.MonkeyPatch) -> None:
    _precision(monkeypatch, "auto")
    monkeypatch.setattr(local, "native_bf16", lambda: False)
    assert passage_precision() == "fp32"
    monkeypatch.setattr(local, "native_bf16", lambda: True)
    assert passage_precision() == "bf16"
    _precision(monkeypatch, "fp32")
    assert passage_precision() == "fp32"
