"""What of a conversation's earlier turns goes into the prompt: the newest, within a token budget."""

from __future__ import annotations

import pytest

from chat.engine import HISTORY_TOKEN_BUDGET, history_for_prompt
from chat.models import Message
from chat.services import conversation_open, message_receive
from supportai.models import Tenant

pytestmark = pytest.mark.django_db


def _conversation_with(tenant: Tenant, texts: list[str]) -> tuple[list[Message], Message]:
    conversation = conversation_open(tenant=tenant).conversation
    stored = [
        message_receive(tenant=tenant, conversation=conversation, client_id=f"c-{n}", text=text).message
        for n, text in enumerate([*texts, "And one more question?"])
    ]
    return stored[:-1], stored[-1]


@pytest.mark.parametrize(
    ("turn", "tokens_each"),
    [
        ("Opening hours. " * 133 + "Thanks!", 501),  # ~4 characters a token
        ("返金ポリシーについて教えてください。" * 28, 504),  # ~1 token a character
    ],
)
def test_history_for_prompt_keeps_the_newest_turns_within_the_token_budget_in_any_script(
    tenant: Tenant, turn: str, tokens_each: int
) -> None:
    # given ten earlier turns of about tokens_each tokens
    earlier, question = _conversation_with(tenant, [turn] * 10)

    # when
    history = history_for_prompt(tenant=tenant, conversation=question.conversation, before=question)

    # then as many of the newest as fit the budget, whatever the script
    assert len(history) == min(10, HISTORY_TOKEN_BUDGET // tokens_each)
    assert [turn.text for turn in history] == [m.text for m in earlier[-len(history) :]]


def test_history_for_prompt_never_reads_another_tenants_conversation(tenant: Tenant, other_tenant: Tenant) -> None:
    _, question = _conversation_with(tenant, ["What are your opening hours?"])

    assert history_for_prompt(tenant=other_tenant, conversation=question.conversation, before=question) == ()
