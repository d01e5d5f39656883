"""Replies left streaming: when one counts as abandoned, and a live turn never overwrites that verdict."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.utils import timezone

from chat import services
from chat.models import Conversation, Message, MessageStatus
from chat.services import (
    AssistantOutcome,
    assistant_message_finish,
    conversation_open,
    message_receive,
)
from chat.tests.conftest import Connect, reply_left_streaming
from escalations.watch import watch_group
from routing.providers.fake import Script, ScriptedProvider
from routing.registry import override_providers
from supportai.models import Tenant

COMPLETE = AssistantOutcome(text="Refunds take five days.", status=MessageStatus.COMPLETE, sources=[])


def _question(tenant: Tenant, client_id: str = "q-1") -> Message:
    conversation = conversation_open(tenant=tenant).conversation
    return message_receive(tenant=tenant, conversation=conversation, client_id=client_id, text="Hi").message


def _resend(tenant: Tenant, question: Message) -> services.ReceivedMessage:
    conversation = Conversation.objects.get(pk=question.conversation_id)
    return message_receive(tenant=tenant, conversation=conversation, client_id=question.client_id, text="Hi")


@pytest.mark.django_db
def test_a_reply_streaming_longer_than_a_claim_timeout_is_not_abandoned_while_its_rounds_may_still_run(
    tenant: Tenant,
) -> None:
    # given a reply streaming for three minutes: up to four tool rounds of 20 s each, plus the margin, are allowed
    question = _question(tenant)
    reply = reply_left_streaming(tenant, question, age=timedelta(minutes=3))
    # when the customer resends
    received = _resend(tenant, question)
    # then it is still the live answer
    assert received.finished_reply is None
    assert Message.objects.get(pk=reply.pk).status == MessageStatus.STREAMING


@pytest.mark.django_db
def test_the_abandon_cutoff_follows_the_routing_turn_deadline(tenant: Tenant, settings: Any) -> None:
    # given turns allowed five minutes per round, and a reply streaming for ten minutes
    settings.ROUTING = {**settings.ROUTING, "TURN_DEADLINE_S": 300}
    question = _question(tenant)
    reply = reply_left_streaming(tenant, question, age=timedelta(minutes=10))
    # when the customer resends, then the answer may still be running
    assert _resend(tenant, question).finished_reply is None
    assert Message.objects.get(pk=reply.pk).status == MessageStatus.STREAMING
    # and once it is older than every round's deadline and the margin, it is abandoned
    assert services.reply_abandoned_after() == timedelta(seconds=4 * 300) + services.REPLY_ABANDON_MARGIN
    Message.objects.filter(pk=reply.pk).update(created_at=reply.created_at - timedelta(minutes=13))
    finished = _resend(tenant, question).finished_reply
    assert finished is not None and finished.status == MessageStatus.INTERRUPTED


@pytest.mark.django_db
def test_a_reply_finished_as_abandoned_is_never_overwritten_by_its_late_turn(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    # given a reply a resend finished as interrupted (its turn looked dead)
    question = _question(tenant)
    reply = reply_left_streaming(tenant, question, age=services.reply_abandoned_after() + timedelta(seconds=1))
    assert _resend(tenant, question).finished_reply is not None
    # when its turn ends after all and stores its answer
    with pytest.raises(services.ReplyAlreadyFinished) as raised:
        assistant_message_finish(tenant=tenant, message_id=reply.pk, outcome=COMPLETE)
    # then the interrupted version stands, and is what the turn gets back
    stored = Message.objects.get(pk=reply.pk)
    assert (stored.status, stored.text) == (MessageStatus.INTERRUPTED, "")
    assert raised.value.reply.pk == reply.pk and raised.value.reply.status == MessageStatus.INTERRUPTED
    # and another tenant cannot finish it either
    with pytest.raises(Message.DoesNotExist):
        assistant_message_finish(tenant=other_tenant, message_id=reply.pk, outcome=COMPLETE)


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_turn_outliving_the_cutoff_ends_with_the_interrupted_version_and_publishes_nothing_more(
    connect: Connect, tenant: Tenant
) -> None:
    # given staff watching a conversation whose answer streams slowly
    layer = get_channel_layer()
    assert layer is not None
    client = await connect(tenant)
    conversation_id = client.ready["conversation_id"]
    staff = await layer.new_channel()
    await layer.group_add(watch_group(tenant_id=tenant.pk, conversation_id=conversation_id), staff)
    slow = ScriptedProvider(name="local", scripts=(Script(deltas=("Refunds take five days.",), delay_s=2),))
    with override_providers({"local": slow}):
        await client.send({"type": "message.send", "client_id": "slow-1", "text": "How long do refunds take?"})
        start = (await client.receive_until("message.start"))[-1]
        # when a resend finds it older than the cutoff (its server looks dead) and finishes it as interrupted
        old = timezone.now() - services.reply_abandoned_after() - timedelta(seconds=1)
        await Message.objects.filter(pk=start["message_id"]).aupdate(created_at=old)
        conversation = await Conversation.objects.aget(pk=conversation_id)
        resent = await sync_to_async(message_receive)(
            tenant=tenant, conversation=conversation, client_id="slow-1", text="How long do refunds take?"
        )
        assert resent.finished_reply is not None
        # and the turn ends after all
        end = (await client.receive_until("message.end"))[-1]
    # then the interrupted version stands, on the socket as in the database
    assert (end["message_id"], end["status"], end["text"]) == (start["message_id"], "interrupted", "")
    stored = await Message.objects.aget(pk=start["message_id"])
    assert (stored.status, stored.text) == (MessageStatus.INTERRUPTED, "")
    # and staff were not shown a second, complete version of it
    published: list[dict[str, Any]] = []
    with contextlib.suppress(asyncio.TimeoutError):
        while True:
            published.append(await asyncio.wait_for(layer.receive(staff), timeout=1))
    assert [event for event in published if event.get("message_id") == start["message_id"]] == []
