"""Watching how the traced encoder pads its batches, for the padding tests."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
import torch

from knowledge.providers.traced import TracedEncoder


def record_padded_widths(encoder: TracedEncoder, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """A list that receives the padded width (in word pieces) of every batch ``encoder`` runs."""
    widths: list[int] = []
    padded = encoder._padded

    def spy(pieces: Sequence[Sequence[int]]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        inputs = padded(pieces)
        widths.append(inputs[0].shape[1])
        return inputs

    monkeypatch.setattr(encoder, "_padded", spy)
    return widths
