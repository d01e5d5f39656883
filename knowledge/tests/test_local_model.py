from __future__ import annotations

import gc
import math

import pytest

from knowledge.providers.local import LocalEmbeddingProvider, load_model

pytestmark = pytest.mark.slow


def test_local_model_loads_offline_once_and_gives_unit_384d_vectors(local_model):
    assert isinstance(local_model, LocalEmbeddingProvider)
    vectors = local_model.embed_documents(["Free parking behind the studio.", "Gift cards never expire."])
    assert [len(v) for v in vectors] == [384, 384]
    assert all(math.isclose(math.sqrt(sum(x * x for x in v)), 1.0, rel_tol=1e-5) for v in vectors)
    assert load_model() is load_model()


def test_local_model_ranks_paraphrases_closest(local_model):
    query = local_model.embed_query("Where can I leave my car?")
    parking, gifts = local_model.embed_documents(["Free parking behind the studio.", "Gift cards never expire."])

    def cosine(a, b):
        return sum(x * y for x, y in zip(a, b, strict=True))

    assert cosine(query, parking) > cosine(query, gifts) + 0.1


def test_local_model_objects_are_frozen_out_of_garbage_collection(local_model):
    # given the model loaded once for the process
    model = load_model()

    # when the collector lists what a full collection would walk
    scanned = gc.get_objects()

    # then the model and the ~500k objects loaded with it are not among them
    assert gc.get_freeze_count() > 100_000
    assert not any(obj is model or obj is model[0].auto_model for obj in scanned)
