"""Customer text cut short where staff read it (the inbox preview, the summary lines of the inbox, email,
Slack and webhook, the reasons the conversation triggers give, the admin's message names) is cut between
whole graphemes and ends in "…": never inside an emoji sequence or between a letter and its accent,
which would show staff another emoji, a lone half of a flag, or a letter without its accent."""

from __future__ import annotations

import re

import pytest

from chat.models import MessageRole
from escalations.inbox import live_queue, ticket_backlog
from escalations.models import Mode
from escalations.summary import LINE_CHARS, conversation_summary
from escalations.tests.factories import ConversationFactory, EscalationFactory, MessageFactory
from escalations.triggers.conversation import repeated_failure, unanswered
from escalations.triggers.text import EVIDENCE_CHARS, _evidence
from supportai.models import Tenant

pytestmark = pytest.mark.django_db
# Each one grapheme of several code points, whose first code point alone reads as something else.
GRAPHEMES = {
    "zwj_family": "\U0001f469\u200d\U0001f469\u200d\U0001f467",  # woman, ZWJ, woman, ZWJ, girl
    "skin_tone": "\U0001f44d\U0001f3fd",  # thumbs up, medium skin tone
    "flag": "\U0001f1eb\U0001f1f7",  # regional indicators F and R
    "combining_accent": "e\u0301",  # e and a combining acute accent
}
PREVIEW_CHARS = 140


def _cut_at(limit: int, grapheme: str) -> str:
    """Text whose cut to ``limit`` characters with room for "…" falls inside ``grapheme``."""
    return "a" * (limit - 2) + grapheme + " and more words after it"


@pytest.mark.parametrize("grapheme", GRAPHEMES.values(), ids=GRAPHEMES.keys())
def test_the_inbox_preview_is_cut_between_whole_graphemes(tenant: Tenant, other_tenant: Tenant, grapheme: str) -> None:
    # given a live escalation whose last customer line is longer than the preview, and a ticket with
    # no customer line in its summary (its preview is the reason the customer gave)
    text = "a" * (PREVIEW_CHARS - 1) + grapheme + " and more"
    EscalationFactory.create(conversation=ConversationFactory.create(tenant=tenant), summary=f"Customer: {text}")
    EscalationFactory.create(
        conversation=ConversationFactory.create(tenant=tenant), mode=Mode.TICKET, summary="", reason=text
    )
    # when staff's inbox lists them
    (live,) = live_queue(tenant=tenant).rows
    (ticket,) = ticket_backlog(tenant=tenant, page=None).rows
    # then each preview ends before the grapheme, marked cut
    assert live["preview"] == ticket["preview"] == "a" * (PREVIEW_CHARS - 1) + "…"
    # and another tenant's inbox lists neither
    assert live_queue(tenant=other_tenant).rows == []
    assert ticket_backlog(tenant=other_tenant, page=None).rows == []


def test_a_preview_that_fits_is_whole(tenant: Tenant) -> None:
    text = "a" * (PREVIEW_CHARS - 2) + GRAPHEMES["skin_tone"]
    EscalationFactory.create(conversation=ConversationFactory.create(tenant=tenant), summary=f"Customer: {text}")
    (row,) = live_queue(tenant=tenant).rows
    assert row["preview"] == text


@pytest.mark.parametrize("grapheme", GRAPHEMES.values(), ids=GRAPHEMES.keys())
def test_a_summary_line_is_cut_between_whole_graphemes(tenant: Tenant, other_tenant: Tenant, grapheme: str) -> None:
    # given a customer message longer than a summary line, the cut falling inside a grapheme
    conversation = ConversationFactory.create(tenant=tenant)
    MessageFactory.create(conversation=conversation, text=_cut_at(LINE_CHARS, grapheme))
    MessageFactory.create(conversation=conversation, role=MessageRole.ASSISTANT, text="Let me check.")
    # when the summary is written
    summary = conversation_summary(tenant=tenant, conversation=conversation)
    # then the line ends before the grapheme, in at most LINE_CHARS characters
    customer, assistant = summary.splitlines()
    assert customer == "Customer: " + "a" * (LINE_CHARS - 2) + "…"
    assert assistant == "Assistant: Let me check."
    # and another tenant's summary of the conversation has nothing
    assert conversation_summary(tenant=other_tenant, conversation=conversation) == ""


@pytest.mark.parametrize("grapheme", GRAPHEMES.values(), ids=GRAPHEMES.keys())
def test_what_a_customer_said_in_a_repeated_failure_is_cut_between_whole_graphemes(
    tenant: Tenant, other_tenant: Tenant, grapheme: str
) -> None:
    # given a customer who said twice that it did not help, at length, a grapheme where the reason cuts
    conversation = ConversationFactory.create(tenant=tenant)
    said = "that didn't help " + "x" * 42 + grapheme + " at all"  # the cut at 60 falls in the grapheme
    MessageFactory.create(conversation=conversation, text=said)
    again = MessageFactory.create(conversation=conversation, text=said)
    # when the trigger reads the conversation
    hit = repeated_failure(tenant=tenant, conversation=conversation, message=again)
    # then the words it quotes end before the grapheme
    assert hit is not None
    quoted = "that didn't help " + "x" * 42 + "…"
    assert hit.evidence == f"said: {quoted}; said: {quoted}; asked again: {quoted}"
    # and another tenant reads nothing of this conversation
    assert repeated_failure(tenant=other_tenant, conversation=conversation, message=again) is None


@pytest.mark.parametrize("grapheme", GRAPHEMES.values(), ids=GRAPHEMES.keys())
def test_unanswered_questions_are_quoted_between_whole_graphemes(
    tenant: Tenant, other_tenant: Tenant, grapheme: str
) -> None:
    # given two long questions the knowledge had nothing for
    conversation = ConversationFactory.create(tenant=tenant)
    for number in (1, 2):
        question = f"do you have lessons {number} " + "y" * 37 + grapheme + " for kids"  # cut at 60 inside
        asked = MessageFactory.create(conversation=conversation, text=question)
        MessageFactory.create(
            conversation=conversation, role=MessageRole.ASSISTANT, text="I don't know.", reply_to=asked, sources=[]
        )
    # when
    hit = unanswered(tenant=tenant, conversation=conversation)
    # then
    assert hit is not None
    assert hit.evidence == "; ".join(f"do you have lessons {n} " + "y" * 37 + "…" for n in (2, 1))
    assert unanswered(tenant=other_tenant, conversation=conversation) is None


@pytest.mark.parametrize("grapheme", GRAPHEMES.values(), ids=GRAPHEMES.keys())
def test_trigger_evidence_is_cut_between_whole_graphemes(grapheme: str) -> None:
    match = re.search(r".+", "w" * (EVIDENCE_CHARS - 1) + grapheme + " tail")
    assert match is not None
    assert _evidence(match) == "w" * (EVIDENCE_CHARS - 1) + "…"


@pytest.mark.parametrize("grapheme", GRAPHEMES.values(), ids=GRAPHEMES.keys())
def test_a_message_is_named_for_staff_between_whole_graphemes(tenant: Tenant, grapheme: str) -> None:
    # given a long customer message (the admin names it so, in the feedback list)
    message = MessageFactory.create(conversation=ConversationFactory.create(tenant=tenant), text=_cut_at(60, grapheme))
    # then its name ends before the grapheme
    assert str(message) == "customer: " + "a" * 58 + "…"
