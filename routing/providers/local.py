"""The ``local`` provider: an offline, deterministic, extractive answer built only from the passages.

It needs no key and costs nothing. It quotes the sentences that best cover the question, each with
its ``[n]`` citation (a ``[n]`` in the passage's own text is quoted in full-width brackets, so it
cites nothing: ``guardrails.uncited``), and when the passages do not cover the question it says so
plainly and offers a human (``Finish.suggest_human``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from itertools import pairwise

from routing.grounding import ground, is_list_item
from routing.guardrails import uncited
from routing.phrases import phrases_for
from routing.providers.base import Finish, ProviderRequest, StreamEvent, TextChunk, Usage
from routing.terms import stream_pieces
from routing.tokens import estimate_tokens


def compose(request: ProviderRequest) -> tuple[str, float, bool]:
    """The answer text, its grounding confidence and whether a human should be offered.

    Our own sentences around the quotes are in the language of the question (``routing/phrases.py``).
    """
    grounding = ground(request.question, request.passages)
    phrases = phrases_for(request.question)
    if not grounding.sentences:
        return phrases.not_covered, grounding.confidence, True
    ordered = sorted(grounding.sentences, key=lambda s: (s.passage_index, s.position))
    lines = [f"{uncited(sentence.text)} [{sentence.passage_index}]" for sentence in ordered]
    text = _joined([phrases.intro, *lines] if len(lines) > 1 else lines)
    if grounding.coverage < 0.6:
        return _joined([text, phrases.partial]), grounding.confidence, True
    return text, grounding.confidence, False


def _joined(lines: list[str]) -> str:
    """Sentences run on in one paragraph; a list item, and whatever follows one, starts a line of its own."""
    text = lines[0]
    for before, line in pairwise(lines):
        text += ("\n" if is_list_item(line) or is_list_item(before.rsplit("\n", 1)[-1]) else " ") + line
    return text


class LocalProvider:
    name = "local"

    def available(self) -> bool:
        return True

    async def stream(self, request: ProviderRequest) -> AsyncIterator[StreamEvent]:
        text, confidence, suggest_human = compose(request)
        for piece in stream_pieces(text):
            yield TextChunk(piece)
        yield Finish(
            usage=Usage(input_tokens=request.estimated_prompt_tokens, output_tokens=estimate_tokens(text)),
            stop_reason="end",
            confidence=confidence,
            suggest_human=suggest_human,
        )
