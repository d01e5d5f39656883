from __future__ import annotations

import pytest

from routing.confidence import from_grounding
from routing.contracts import ContextPassage
from routing.providers.base import Finish, ProviderRequest, TextChunk
from routing.providers.local import NOT_COVERED, LocalProvider, compose
from routing.tests.factories import PASSAGES


def _request(question: str, passages=PASSAGES) -> ProviderRequest:
    return ProviderRequest(
        model="local", system=(), messages=(), temperature=0, max_tokens=512, question=question, passages=passages
    )


def test_local_compose_quotes_the_relevant_sentence_with_its_citation():
    text, confidence, suggest_human = compose(_request("Can I cancel a class without a fee?"))

    assert text == "You can cancel a class up to 12 hours before it starts without a fee. [2]"
    assert confidence >= 0.8
    assert suggest_human is False


def test_local_compose_says_plainly_when_the_passages_do_not_cover_the_question():
    text, confidence, suggest_human = compose(_request("Do you sell gift vouchers for massages?"))

    assert text == NOT_COVERED
    assert confidence < 0.3
    assert suggest_human is True


def test_local_compose_without_passages_offers_a_human():
    text, _, suggest_human = compose(_request("What are your opening hours?", passages=()))

    assert text == NOT_COVERED
    assert suggest_human is True


def test_local_compose_is_deterministic():
    assert compose(_request("When are you open on weekends?")) == compose(_request("When are you open on weekends?"))


@pytest.mark.asyncio
async def test_local_stream_is_word_by_word_and_ends_with_zero_cost_usage():
    events = [event async for event in LocalProvider().stream(_request("When are you open on weekends?"))]

    chunks = [e.text for e in events if isinstance(e, TextChunk)]
    assert len(chunks) > 5
    assert all(chunk.count(" ") <= 1 for chunk in chunks)
    assert "".join(chunks).endswith("[1]")
    assert isinstance(events[-1], Finish)
    assert events[-1].usage.output_tokens > 0


def test_local_compose_reads_sentences_under_their_heading_but_never_quotes_the_heading():
    from routing.contracts import ContextPassage

    policy = ContextPassage(
        index=1,
        title="Cancellation and late arrival policy (POL-CXL-24)",
        url="https://example.com/cancel",
        text="# Cancellation and late arrival policy\n\nPlease give us at least 24 hours notice to avoid a fee. "
        "Late arrivals keep their original end time.",
    )
    text, _, suggest_human = compose(_request("What is your cancellation policy?", passages=(policy,)))

    assert not text.startswith("#")
    assert text == "Please give us at least 24 hours notice to avoid a fee. [1]"
    assert suggest_human is False


@pytest.mark.parametrize(
    ("question", "passage", "quoted"),
    [
        (
            "Как отменить занятие без оплаты?",
            "Отмена занятий\nВы можете отменить занятие без оплаты за 12 часов до начала.",  # noqa: RUF001
            "Вы можете отменить занятие без оплаты за 12 часов до начала. [1]",
        ),
        (
            "Πώς ακυρώνω ένα μάθημα χωρίς χρέωση;",
            "Ακυρώσεις\nΜπορείτε να ακυρώσετε ένα μάθημα χωρίς χρέωση έως 12 ώρες πριν.",  # noqa: RUF001
            "Μπορείτε να ακυρώσετε ένα μάθημα χωρίς χρέωση έως 12 ώρες πριν. [1]",  # noqa: RUF001
        ),
        (
            "Kann ich die Öffnungszeiten ändern?",
            "Öffnungszeiten\nDie Öffnungszeiten ändern sich im Sommer jedes Jahr.",
            "Die Öffnungszeiten ändern sich im Sommer jedes Jahr. [1]",
        ),
    ],
)
def test_local_compose_answers_from_passages_in_other_scripts(question: str, passage: str, quoted: str):
    passages = (ContextPassage(1, passage.split("\n")[0], "", passage),)

    text, confidence, _ = compose(_request(question, passages))

    # quoted with its citation (inflections the English stemmer does not know may hedge the answer)
    assert text.startswith(quoted)
    assert confidence > 0.3


def test_grounding_confidence_reads_answers_in_other_scripts():
    passages = (ContextPassage(1, "Отмена", "", "Вы можете отменить занятие за 12 часов до начала."),)

    assert from_grounding("Вы можете отменить занятие за 12 часов.", passages) == 1.0
    assert from_grounding("Мы продаём подарочные карты.", passages) == 0.0
