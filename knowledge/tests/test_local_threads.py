"""The local model's intra-op threads: one while serving, every core while bulk embedding."""

from __future__ import annotations

import os

import pytest
import torch

from knowledge import conf
from knowledge.providers.local import bulk_threads, load_model, use_threads

pytestmark = pytest.mark.slow


def test_bulk_threads_uses_every_core_then_restores_the_serving_setting() -> None:
    # given the model loaded with the serving setting (other tests in this process may have changed it)
    load_model()
    use_threads(conf.SETTINGS.torch_threads)
    assert torch.get_num_threads() == conf.SETTINGS.torch_threads

    with bulk_threads():
        assert torch.get_num_threads() == (os.cpu_count() or 1)

    assert torch.get_num_threads() == conf.SETTINGS.torch_threads
