"""The traced encoder gives sentence-transformers' own vectors, on real questions and long answers."""

from __future__ import annotations

import json
from itertools import islice

import pytest
import torch

from knowledge.providers.local import load_encoder, load_model
from knowledge.providers.traced import TracedEncoder, UnsupportedPipeline
from knowledge.tests.encoder_spy import record_padded_widths
from supportai.datasets import COVID_FAQ

pytestmark = pytest.mark.slow


def _jsonl(name: str, field: str, count: int) -> list[str]:
    with (COVID_FAQ / name).open(encoding="utf-8") as lines:
        return [json.loads(line)[field] for line in islice(lines, count)]


def _reference(texts: list[str]) -> torch.Tensor:
    return torch.tensor(load_model().encode(texts, normalize_embeddings=True, show_progress_bar=False))


@pytest.mark.parametrize("batch_size", [1, 7, 64])
def test_traced_encoder_matches_sentence_transformers(batch_size: int) -> None:
    # given real queries and FAQ answers (some past the model's 256 word pieces), mixed lengths
    texts = _jsonl("queries.jsonl", "text", 40) + _jsonl("corpus.jsonl", "text", 40) + ["", "ok", "健康 " * 300]

    # when the traced encoder embeds them in padded batches
    vectors = torch.tensor(load_encoder().encode(texts, batch_size=batch_size))

    # then they are the sentence-transformers vectors, in the same order, to float32 rounding
    assert vectors.shape == (len(texts), 384)
    assert torch.allclose(vectors, _reference(texts), atol=2e-5)


def test_traced_encoder_refuses_a_pipeline_it_does_not_reproduce() -> None:
    class Pooling:
        def get_config_dict(self) -> dict[str, str]:
            return {"pooling_mode": "cls"}

    class Transformer:
        pass

    with pytest.raises(UnsupportedPipeline):
        TracedEncoder([Transformer(), Pooling()])


def test_traced_encoder_batches_texts_by_word_pieces_not_characters(monkeypatch: pytest.MonkeyPatch) -> None:
    # given texts whose character lengths rank them unlike their word pieces: by characters
    # (20, 19, 17, 13) the batches would pair 4 with 12 pieces and 11 with 3
    encoder = load_encoder()
    texts = ["internationalization", "a b c d e f g h i j", "k l m n o p q r s", "international"]
    widths: list[list[int]] = []
    forward = encoder._forward

    def spy(pieces):
        widths.append([len(row) for row in pieces])
        return forward(pieces)

    monkeypatch.setattr(encoder, "_forward", spy)

    # when they are embedded two at a time
    vectors = torch.tensor(encoder.encode(texts, batch_size=2))

    # then each batch holds texts of neighbouring piece counts ([CLS] and [SEP] included)
    # and the vectors come back in the order given
    assert widths == [[12, 11], [4, 3]]
    assert torch.allclose(vectors, _reference(texts), atol=2e-5)


def test_traced_encoder_embeds_nothing_for_no_texts() -> None:
    assert load_encoder().encode([], batch_size=16) == []


def test_traced_encoder_pads_to_a_multiple_without_changing_the_vectors(monkeypatch: pytest.MonkeyPatch) -> None:
    # given an encoder that pads every batch to a multiple of 16 word pieces
    encoder = TracedEncoder(load_model(), pad_to_multiple=16)
    widths = record_padded_widths(encoder, monkeypatch)
    texts = _jsonl("queries.jsonl", "text", 20) + _jsonl("corpus.jsonl", "text", 20) + ["ok"]

    # when it embeds real texts of mixed lengths
    vectors = torch.tensor(encoder.encode(texts, batch_size=8))

    # then every batch is padded to a multiple of 16 and the vectors are those of sentence-transformers
    assert widths and all(width % 16 == 0 for width in widths)
    assert any(width > 16 for width in widths)
    assert torch.allclose(vectors, _reference(texts), atol=2e-5)


def test_traced_encoder_never_pads_past_the_models_maximum(monkeypatch: pytest.MonkeyPatch) -> None:
    # given a multiple that does not divide the model's 256 word pieces
    encoder = TracedEncoder(load_model(), pad_to_multiple=100)
    widths = record_padded_widths(encoder, monkeypatch)

    # when a text fills all 256 pieces and another needs 3
    encoder.encode(["健康 " * 300], batch_size=1)
    encoder.encode(["ok"], batch_size=1)

    # then the long batch stays at 256 (not 300) and the short one rounds up to 100
    assert widths == [256, 100]


def test_traced_encoder_refuses_a_padding_multiple_under_one() -> None:
    with pytest.raises(ValueError, match="pad_to_multiple"):
        TracedEncoder(load_model(), pad_to_multiple=0)
