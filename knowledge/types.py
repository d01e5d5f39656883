"""What retrieval hands to the rest of the product (chat, routing, console, evaluation).

Contract used by ``knowledge.selectors.retrieve(*, tenant, query, k=5, mode="hybrid") -> list[Passage]``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

RetrievalMode = Literal["bm25", "dense", "hybrid"]
# How a long run (an evaluation, a re-index) reports as it goes: called with its step, how many items
# the step holds and how many of them are done (``management.options.StepBars`` draws it).
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Passage:
    """One context passage (a parent chunk), ranked.

    ``index`` is the 1-based position in the returned list; answers cite it as ``[index]``.
    ``chunk_id`` is the parent chunk given as context; ``matched_chunk_ids`` are the child chunks
    whose match brought it in. ``ranks`` holds each retriever's 1-based rank of the passage (None
    when that retriever did not return it), e.g. ``{"bm25": 3, "dense": 1}``.
    """

    index: int
    document_id: int
    chunk_id: int
    title: str
    url: str
    text: str
    score: float
    matched_chunk_ids: tuple[int, ...] = ()
    ranks: Mapping[str, int | None] = field(default_factory=dict)
