"""Replies left streaming by a server that died are finished without waiting for a resend."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chat.models import Conversation, Message, MessageStatus
from chat.services import (
    conversation_finish_abandoned_replies,
    conversation_open,
    message_receive,
    replies_finish_abandoned,
    reply_abandoned_after,
)
from chat.tasks import FINISH_ABANDONED_TASK, finish_abandoned_replies
from chat.tests.conftest import Connect, reply_left_streaming
from escalations.watch import watch_group
from supportai.models import Tenant
from supportai.tests.throwaway_redis import ThrowawayRedis


def _dead_reply(tenant: Tenant, client_id: str, *, age: timedelta | None = None) -> Message:
    conversation = conversation_open(tenant=tenant).conversation
    question = message_receive(tenant=tenant, conversation=conversation, client_id=client_id, text="Hi").message
    return reply_left_streaming(tenant, question, age=age or reply_abandoned_after() + timedelta(seconds=1))


def _status(reply: Message) -> str:
    return Message.objects.get(pk=reply.pk).status


@pytest.mark.django_db
def test_the_periodic_task_finishes_every_tenants_dead_replies_and_leaves_live_ones(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    # given dead replies of two tenants, and one still within the cutoff
    ours, theirs = _dead_reply(tenant, "a"), _dead_reply(other_tenant, "b")
    live = _dead_reply(tenant, "c", age=timedelta(seconds=5))
    # when the beat task runs, twice
    assert finish_abandoned_replies() == 2
    assert finish_abandoned_replies() == 0
    # then the dead ones are interrupted, each still its own tenant's, and the live one streams on
    assert (_status(ours), _status(theirs), _status(live)) == ("interrupted", "interrupted", "streaming")
    assert Message.objects.get(pk=theirs.pk).tenant_id == other_tenant.pk


@pytest.mark.django_db
def test_the_sweep_goes_through_every_batch(tenant: Tenant) -> None:
    replies = [_dead_reply(tenant, f"q-{n}") for n in range(3)]
    batches = list(replies_finish_abandoned(batch_size=2))
    assert [[reply.pk for reply in batch] for batch in batches] == [[r.pk for r in replies[:2]], [replies[2].pk]]
    assert {_status(reply) for reply in replies} == {"interrupted"}


@pytest.mark.django_db
def test_another_tenant_cannot_finish_a_conversations_dead_replies(tenant: Tenant, other_tenant: Tenant) -> None:
    reply = _dead_reply(tenant, "a")
    conversation = Conversation.objects.get(pk=reply.conversation_id)
    assert conversation_finish_abandoned_replies(tenant=other_tenant, conversation=conversation) == []
    assert _status(reply) == MessageStatus.STREAMING
    assert [r.pk for r in conversation_finish_abandoned_replies(tenant=tenant, conversation=conversation)] == [reply.pk]


def test_the_task_is_in_the_beat_schedule(settings: Any) -> None:
    assert settings.CELERY_BEAT_SCHEDULE["chat-finish-abandoned-replies"]["task"] == FINISH_ABANDONED_TASK


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_resuming_a_conversation_finishes_its_dead_reply_without_beat(connect: Connect, tenant: Tenant) -> None:
    # given a conversation whose reply a dead server left streaming, and staff watching it
    first = await connect(tenant)
    conversation_id = first.ready["conversation_id"]
    conversation = await Conversation.objects.aget(pk=conversation_id)
    received = await sync_to_async(message_receive)(
        tenant=tenant, conversation=conversation, client_id="w-1", text="Tell me about memberships"
    )
    age = reply_abandoned_after() + timedelta(seconds=1)
    reply = await sync_to_async(reply_left_streaming)(tenant, received.message, age=age)
    layer = get_channel_layer()
    assert layer is not None
    staff = await layer.new_channel()
    await layer.group_add(watch_group(tenant_id=tenant.pk, conversation_id=conversation_id), staff)
    # when the customer comes back
    again = await connect(tenant, resume=first.ready["resume_token"])
    # then the reply is finished as interrupted, in the history and for staff
    assert again.ready["conversation_id"] == conversation_id
    assert (await Message.objects.aget(pk=reply.pk)).status == MessageStatus.INTERRUPTED
    shown = [row for row in again.ready["history"] if row["message_id"] == reply.pk]
    assert [row["status"] for row in shown] == ["interrupted"]
    published = await asyncio.wait_for(layer.receive(staff), timeout=5)
    assert (published["message_id"], published["role"]) == (reply.pk, "assistant")


def test_the_sweep_reads_streaming_replies_through_their_partial_index(tenant: Tenant) -> None:
    # given a message table shaped like production's: thousands of finished messages, a few left
    # streaming, and statistics that say so (a near-empty table lets the planner pick any index)
    conversation = conversation_open(tenant=tenant).conversation
    Message.objects.bulk_create(
        Message(tenant=tenant, conversation=conversation, role="assistant", text="Done.", status=MessageStatus.COMPLETE)
        for _ in range(5000)
    )
    _dead_reply(tenant, "sweep-plan")
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Message._meta.db_table}")
    # when PostgreSQL plans the sweep's query of every tenant's replies streaming since before the cutoff
    with CaptureQueriesContext(connection) as run:
        list(replies_finish_abandoned())
    sweep = next(q["sql"] for q in run.captured_queries if "streaming" in q["sql"] and q["sql"].startswith("SELECT"))
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sweep}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    # then it reads the partial index of streaming rows, not every message
    assert "message_streaming_created_at" in plan, plan


@pytest.mark.redis
@pytest.mark.django_db
def test_the_periodic_task_finishes_dead_replies_with_the_channel_layer_down(
    tenant: Tenant, throwaway_layer: ThrowawayRedis, caplog: pytest.LogCaptureFixture
) -> None:
    # given a dead reply, and the channel layer's Redis gone
    reply = _dead_reply(tenant, "a")
    throwaway_layer.stop()
    # when the beat task runs
    finished = finish_abandoned_replies()
    # then the reply is finished and counted, and the staff it was not shown to are a warning, not the task's error
    assert finished == 1 and _status(reply) == MessageStatus.INTERRUPTED
    [warning] = [record for record in caplog.records if record.levelno == logging.WARNING]
    assert watch_group(tenant_id=tenant.pk, conversation_id=reply.conversation_id) in warning.getMessage()
