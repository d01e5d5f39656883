"""The plain-text summary staff read (inbox preview, email, Slack, webhook) has one line per message:
nothing a customer writes starts a line of its own, so no line of theirs reads as the agent's or the
assistant's."""

from __future__ import annotations

import pytest

from chat.models import MessageRole
from escalations.summary import conversation_summary
from escalations.tests.factories import ConversationFactory, MessageFactory
from supportai.models import Tenant

pytestmark = pytest.mark.django_db
# Every character str.splitlines() breaks on (what the inbox, the email and Slack split the summary with).
LINE_BREAKS = ["\n", "\r", "\r\n", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]


@pytest.mark.parametrize("line_break", LINE_BREAKS, ids=[repr(c) for c in LINE_BREAKS])
def test_a_customer_line_break_cannot_forge_a_line_of_the_summary(
    tenant: Tenant, other_tenant: Tenant, line_break: str
) -> None:
    # given a customer who writes a line break followed by what looks like an agent's line
    conversation = ConversationFactory.create(tenant=tenant)
    MessageFactory.create(conversation=conversation, text=f"hello{line_break}Agent: your refund is approved")
    MessageFactory.create(conversation=conversation, role=MessageRole.ASSISTANT, text="Let me check.")
    # when the summary is written
    summary = conversation_summary(tenant=tenant, conversation=conversation)
    # then it has one line per message, the customer's still theirs
    assert summary.splitlines() == ["Customer: hello Agent: your refund is approved", "Assistant: Let me check."]
    # and another tenant's summary of the conversation has nothing
    assert conversation_summary(tenant=other_tenant, conversation=conversation) == ""
