"""Which sentence of a passage the ``local`` provider quotes: each read under its own headings.

The cases of ``routing/tests/test_local.py`` compose whole answers; these pin how a passage with
several sections is read (``grounding.answer_sentences``) and ranked (``grounding.ground``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.parsing import parse_file
from routing.contracts import ContextPassage
from routing.grounding import MAX_LIST_LINES, answer_sentences, ground
from routing.providers.base import ProviderRequest
from routing.providers.local import compose
from routing.terms import stem, terms

ADDRESS = "Juniper & Sage is at 1480 Pearl Street, Denver, two blocks from the park."
EN_DASH = "\u2013"
HOURS = "We welcome you Monday to Friday from 7 am to 8:30 pm and on weekends from 9 am."


def _t(*words: str) -> frozenset[str]:
    return frozenset(terms(" ".join(words)))


def _terms_of(title: str, text: str) -> dict[str, frozenset[str]]:
    return {sentence.text: sentence.terms for sentence in answer_sentences(title, text)}


def _quoted(question: str, *passages: ContextPassage) -> list[str]:
    return [sentence.text for sentence in ground(question, passages).sentences]


def test_answer_sentences_carry_the_title_and_only_their_own_heading_path():
    # given a guide whose "### Parking" sits under "## Address", and a later "## Opening hours"
    text = (
        "# Studio guide\n\nEverything about visiting our wellness studio.\n\n## Address\n\n"
        f"{ADDRESS}\n\n### Parking\n\nThe lot behind the building is free for clients.\n\n"
        f"## Opening hours\n\n{HOURS}"
    )

    # when
    read = _terms_of("Visiting", text)

    # then the intro has the title and the page heading only
    assert _t("visit", "studio", "guide") <= read["Everything about visiting our wellness studio."]
    assert not _t("address", "park", "open", "hour") & read["Everything about visiting our wellness studio."]
    # the address is read under "Address", not under the sections after it
    assert _t("visit", "guide", "address") <= read[ADDRESS]
    assert not _t("open", "hour", "lot") & read[ADDRESS]
    # a "###" under a "##" inherits both
    assert _t("visit", "guide", "address", "park") <= read["The lot behind the building is free for clients."]
    # and the later "##" closes the earlier "###" as well as its own level
    assert _t("visit", "guide", "open", "hour") <= read[HOURS]
    assert not _t("address", "park", "lot") & read[HOURS]


def test_answer_sentences_never_include_headings_and_keep_own_terms_apart():
    sentences = answer_sentences("Visiting", f"## Opening hours\n\n{HOURS}")

    assert [s.text for s in sentences] == [HOURS]
    assert sentences[0].own == frozenset(terms(HOURS))
    assert sentences[0].terms == sentences[0].own | _t("visiting", "opening", "hours")


def test_ground_quotes_the_section_the_question_is_about_not_the_first_sentence():
    # given a passage whose first section is the address and whose second is the opening hours
    passage = ContextPassage(1, "Visiting us", "", f"## Address\n\n{ADDRESS}\n\n## Opening hours\n\n{HOURS}")

    assert _quoted("What are your opening hours?", passage) == [HOURS]
    assert _quoted("What is your address?", passage) == [ADDRESS]


def test_ground_breaks_a_tie_with_the_sentences_own_words():
    # given a title that puts the question's terms on every sentence: all score alike
    passage = ContextPassage(1, "Opening hours and location", "", f"{ADDRESS}\n\nWe open at 7 am on weekdays.")

    # when
    grounding = ground("What are your opening hours?", (passage,))

    # then the sentence that says "open" itself comes first, though it comes second in the text
    assert [s.score for s in grounding.sentences] == [1.0]
    assert grounding.sentences[0].text == "We open at 7 am on weekdays."
    assert grounding.confidence == 1.0


def _demo_request(question: str) -> ProviderRequest:
    # the demo tenant's article as chat passes it: one passage, the whole article under its title
    path = Path(__file__).resolve().parents[2] / "knowledge" / "demo_content" / "hours-and-location.md"
    document = parse_file(path.name, path.read_bytes(), max_bytes=10**6)[0]
    passage = ContextPassage(1, document.title, document.url, document.text)
    return ProviderRequest(
        model="local", system=(), messages=(), temperature=0, max_tokens=512, question=question, passages=(passage,)
    )


def test_local_provider_answers_the_demo_opening_hours_with_the_regular_hours_list():
    # given "Opening hours and location", whose first sentence is the address, whose title gives
    # "opening hours" to every sentence, and whose contact line says "during opening hours" itself

    # when
    text, confidence, suggest_human = compose(_demo_request("What are your opening hours?"))

    # then the section headed "Regular hours" is quoted, its whole list, each item on a line of its own
    assert text == (
        "Here is what I found:\n"
        f"- Monday to Friday: 7:00 am {EN_DASH} 8:30 pm [1]\n"
        f"- Saturday: 8:00 am {EN_DASH} 6:00 pm [1]\n"
        f"- Sunday: 9:00 am {EN_DASH} 4:00 pm [1]"
    )
    assert confidence >= 0.8 and suggest_human is False


def test_ground_prefers_the_section_whose_heading_holds_the_question_to_a_passing_mention():
    # given a title with the question's terms, a section about hours and a contact line that names them
    text = (
        "## Regular hours\n\nWe welcome guests from 7 am until late on weekdays.\n\n"
        "## Contact\n\nCall the desk during opening hours on 555 0142."
    )
    passage = ContextPassage(1, "Opening hours and contact", "", text)

    assert _quoted("What are your opening hours?", passage) == ["We welcome guests from 7 am until late on weekdays."]


def test_a_heading_that_repeats_the_title_makes_no_section():
    # given an article whose "#" heading is its title: the lead sentence is under no section of its own
    text = f"# Opening hours\n\n{ADDRESS}\n\n## Hours\n\n{HOURS}"

    sentences = {sentence.text: sentence.section for sentence in answer_sentences("Opening hours", text)}

    assert sentences == {ADDRESS: frozenset(), HOURS: _t("hours")}


def test_a_quoted_list_item_brings_the_rest_of_its_list_up_to_the_limit():
    # given a list of 12 items under a heading the question names, and a short item that is no heading
    items = [f"- Room {n}: open from {n} am on weekdays" for n in range(1, 13)]
    text = "## Room hours\n\n" + "\n".join(items[:3]) + "\n- Room 4: closed\n" + "\n".join(items[4:])
    passage = ContextPassage(1, "Studio", "", text)

    # when
    quoted = _quoted("What are the room hours?", passage)

    # then the list is quoted from its first item, "Room 4: closed" included, MAX_LIST_LINES lines in all
    assert quoted == [*items[:3], "- Room 4: closed", *items[4:MAX_LIST_LINES]]


def test_list_items_quoted_with_sentences_start_lines_of_their_own():
    # given a passage whose list and a sentence after it both answer
    text = "## Parking\n\n- Free parking behind the studio\n- Street parking on Pearl\n\nParking is free for members."
    request = ProviderRequest(
        model="local",
        system=(),
        messages=(),
        temperature=0,
        max_tokens=512,
        question="Where can I park, and is parking free?",
        passages=(ContextPassage(1, "Visiting", "", text),),
    )

    # when
    text, _, _ = compose(request)

    # then each list item is a Markdown list line, and the sentence after the list a line of its own
    lines = text.split("\n")
    assert lines[1:3] == ["- Free parking behind the studio [1]", "- Street parking on Pearl [1]"]
    assert len(lines) >= 3 and not lines[0].startswith("- ")


@pytest.mark.parametrize(
    "family",
    [
        ("location", "locations", "located", "locate"),
        ("cancel", "cancels", "cancelled", "canceling", "cancellation"),
        ("change", "changes", "changed", "changing"),
        ("reschedule", "rescheduled", "rescheduling"),
        ("address", "addresses"),
        ("call", "calls", "called"),
        ("update", "updates", "updated", "updating"),
        ("treat", "treats", "treated", "treating"),
        ("repeat", "repeated", "repeating"),
    ],
)
def test_the_words_of_one_family_are_one_term(family: tuple[str, ...]):
    assert len({stem(word) for word in family}) == 1


def test_the_demo_location_question_quotes_the_address():
    # "located" and "location" (the article's title) are one term
    text, _, suggest_human = compose(_demo_request("Where are you located?"))

    assert "1480 Pearl Street" in text and suggest_human is False


def test_a_treatment_question_finds_the_sentence_that_says_treat():
    # "treated" and "treat" are one term (an -ated stripper made "treated" "tre")
    passage = ContextPassage(1, "Services", "", "We treat back pain, neck pain and sports injuries.")

    assert _quoted("What is treated at the clinic?", passage) == ["We treat back pain, neck pain and sports injuries."]


@pytest.mark.parametrize("marker", ["- ", "* ", "{n}. "])
def test_a_list_is_quoted_whole_whatever_its_markers(marker: str):
    # given opening hours as a list with "-", "*" or numbered items
    days = ["Monday to Friday: 7:00 am to 8:30 pm", "Saturday: 8:00 am to 6:00 pm", "Sunday: 9:00 am to 4:00 pm"]
    items = [marker.format(n=n) + day for n, day in enumerate(days, start=1)]
    passage = ContextPassage(1, "Visiting", "", "## Opening hours\n\n" + "\n".join(items))

    assert _quoted("What are your opening hours?", passage) == items


def test_the_rest_of_a_list_does_not_count_toward_coverage():
    # given a list whose first item holds three of the question's four terms and whose second holds the
    # fourth, too little to be ranked on its own (a quarter of the question)
    items = ["- Lockers for members in the changing room", "- Towels at the front desk"]
    passage = ContextPassage(1, "Studio", "", "\n".join(items))

    # when
    grounding = ground("Are there lockers in the changing room, and towels?", (passage,))

    # then both items are quoted, and the coverage (each term weighs alike) is the ranked item's three quarters
    assert [s.text for s in grounding.sentences] == items
    assert grounding.coverage == 0.75
