"""Sharing a finished answer with the conversation's other sockets is best effort, like showing it to
the inbox watchers: with the channel layer down the customer still gets the answer, and the failure is a
warning naming the ids (no error, no traceback)."""

from __future__ import annotations

import logging
from collections.abc import Iterable

import pytest

from chat import engine
from chat.tests.db_failures import first_turn
from escalations.realtime import Publication
from supportai.models import Tenant

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_answer_that_cannot_be_shared_with_other_sockets_is_given_and_warned(
    tenant: Tenant, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # given the conversation's group cannot be reached
    async def publish(publications: Iterable[Publication]) -> None:
        raise ConnectionError("Error 111 connecting to redis:6379. Connection refused.")

    monkeypatch.setattr(engine, "publish", publish)
    # when a question is answered
    answered = first_turn(tenant)
    # then the answer comes back, and the failed share is one warning naming its ids, without a traceback
    answer = answered["answer"]
    assert answer["type"] == "message.end" and answer["status"] == "complete"
    [warned] = [record for record in caplog.records if record.name == "chat.engine"]
    assert warned.levelno == logging.WARNING and warned.exc_info is None
    text = warned.getMessage()
    assert f"message {answer['message_id']}" in text and f"conversation {answered['conversation_id']}" in text
    assert f"tenant {tenant.pk}" in text and "Connection refused" in text
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]
