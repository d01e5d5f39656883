"""``session.ready.history`` names, on each assistant answer, the ``client_id`` of the question it
answers, so the widget settles its pending questions exactly rather than by the order of their acks."""

from __future__ import annotations

from typing import Any

import pytest

from chat.models import Message, MessageRole, MessageStatus
from chat.selectors import conversation_history
from chat.services import conversation_open, message_receive
from supportai.models import Tenant

pytestmark = pytest.mark.django_db


def _answer(tenant: Tenant, question: Message, text: str, status: str = MessageStatus.COMPLETE) -> Message:
    return Message.objects.create(
        tenant=tenant,
        conversation=question.conversation,
        role=MessageRole.ASSISTANT,
        text=text,
        status=status,
        reply_to=question,
    )


def test_history_answers_name_the_client_id_of_their_question(tenant: Tenant, django_assert_num_queries: Any) -> None:
    # given two questions answered out of their order (the second first), and an answer still streaming
    conversation = conversation_open(tenant=tenant).conversation
    first, second, third = (
        message_receive(tenant=tenant, conversation=conversation, client_id=client_id, text=text).message
        for client_id, text in (("q-1", "Where can I park?"), ("q-2", "When do you open?"), ("q-3", "Prices?"))
    )
    _answer(tenant, second, "At nine.")
    _answer(tenant, first, "Behind the building.", status=MessageStatus.INTERRUPTED)
    _answer(tenant, third, "Being written…", status=MessageStatus.STREAMING)
    # when (one query, however many answers)
    with django_assert_num_queries(1):
        history = conversation_history(tenant=tenant, conversation=conversation)
    # then each answer names its own question; the customer's entries name none
    assert [(m["role"], m["text"], m.get("reply_to", "-")) for m in history] == [
        ("customer", "Where can I park?", "-"),
        ("customer", "When do you open?", "-"),
        ("customer", "Prices?", "-"),
        ("assistant", "At nine.", "q-2"),
        ("assistant", "Behind the building.", "q-1"),
    ]


def test_an_answer_whose_question_is_gone_names_none(tenant: Tenant) -> None:
    conversation = conversation_open(tenant=tenant).conversation
    question = message_receive(tenant=tenant, conversation=conversation, client_id="q-1", text="Hello?").message
    _answer(tenant, question, "Hi!")
    question.delete()

    history = conversation_history(tenant=tenant, conversation=conversation)

    assert [(m["role"], m["reply_to"]) for m in history] == [("assistant", None)]


def test_history_never_reads_another_tenants_conversation(tenant: Tenant, other_tenant: Tenant) -> None:
    conversation = conversation_open(tenant=tenant).conversation
    question = message_receive(tenant=tenant, conversation=conversation, client_id="q-1", text="Secret?").message
    _answer(tenant, question, "Secret answer.")

    assert conversation_history(tenant=other_tenant, conversation=conversation) == []
