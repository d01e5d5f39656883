from __future__ import annotations

import gc
import math
import os
import subprocess
import sys

import pytest

from knowledge import conf
from knowledge.chunking import MODEL_MAX_TOKENS
from knowledge.indexing import _plan, embedding_text
from knowledge.models import Document
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


def test_the_model_truncates_nothing_of_what_indexing_gives_it(local_model):
    # given: documents whose children are hard to cut (no separators, non-Latin scripts, a giant
    # word, one huge paragraph), with the longest title and the deepest section path of long headings
    title = "Title " * 200
    headings = "".join(f"{'#' * depth} {'Heading ' * 100}\n\n" for depth in range(1, 7))
    texts = [
        "健康" * 3000,
        "Массаж длится шестьдесят минут. " * 300 + "ご予約は前日までにお願いします。" * 200,
        "مرحبا بكم في الاستوديو " * 400,
        "Your licence key is " + "x9" * 2000 + " keep it safe. " * 100,
        "Tracking codes: " + "-".join(["qzvkjpwxy"] * 600),
        "One paragraph that never ends, " * 1500,
    ]
    model = load_model()
    # then the chunker counts with the model's own limit
    assert model.max_seq_length == MODEL_MAX_TOKENS
    for text in texts:
        plan = _plan(Document(title=title, content=headings + text), conf.SETTINGS)
        # when each child is read by the model's own tokenizer, as the encoder reads it, untruncated
        inputs = [embedding_text(title, child.text, child.section) for child in plan.children]
        pieces = model.tokenizer(inputs, add_special_tokens=True, truncation=False)["input_ids"]
        # then every input, [CLS] and [SEP] included, fits the model: nothing is cut off
        assert len(inputs) > 3 and max(len(ids) for ids in pieces) <= model.max_seq_length, text[:20]


LOAD_AND_EMBED = """
import django
django.setup()
from knowledge.providers.local import LocalEmbeddingProvider
model = LocalEmbeddingProvider()
model.embed_documents(["Free parking behind the studio."])
model.embed_query("Where can I park?")
"""


def test_loading_the_model_writes_nothing_to_stderr() -> None:
    # given a new process, as a command or a worker starts, logging at the default level (INFO)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "supportai.settings", "LOG_LEVEL": "INFO"}
    # when it loads the model and embeds a passage and a query
    run = subprocess.run([sys.executable, "-c", LOAD_AND_EMBED], env=env, capture_output=True, text=True, timeout=240)
    # then it wrote nothing across an ingest's own progress bar and file errors: no library's loading
    # bar or line, and none of the warnings tracing the model provokes (a FutureWarning about gradient
    # checkpointing, transformers' "loss_type=None ... ForCausalLMLoss"), which concern no user
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""
