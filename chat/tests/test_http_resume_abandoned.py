"""An HTTP message that resumes a conversation finishes the replies a dead server left streaming, as a
websocket resume does (``conversation_finish_abandoned_replies``), and shows them to staff."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.test import AsyncClient

from chat.models import Channel, Message, MessageStatus
from chat.services import OpenedConversation, conversation_open, message_receive, reply_abandoned_after
from chat.tests.conftest import reply_left_streaming
from chat.tests.urls_under_test import MESSAGES
from escalations.watch import watch_group
from supportai.models import Tenant

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]
ORIGIN = "https://alpha.example.com"


def _conversation_with_dead_reply(tenant: Tenant) -> tuple[OpenedConversation, Message]:
    """An HTTP conversation whose first answer a server left streaming before it died."""
    opened = conversation_open(tenant=tenant, channel=Channel.API)
    question = message_receive(tenant=tenant, conversation=opened.conversation, client_id="d-1", text="Hi").message
    return opened, reply_left_streaming(tenant, question, age=reply_abandoned_after() + timedelta(seconds=1))


async def _post(path: str, body: dict[str, Any], origin: str = ORIGIN) -> Any:
    headers = {"Origin": origin} if origin else {}
    return await AsyncClient().post(path, json.dumps(body), "application/json", headers=headers)


@pytest.mark.parametrize("path", [MESSAGES, f"{MESSAGES}/stream"])
async def test_an_http_resume_finishes_the_conversations_dead_reply_and_shows_it_to_staff(
    tenant: Tenant, path: str
) -> None:
    # given a conversation whose reply a dead server left streaming, and staff watching it
    opened, reply = await sync_to_async(_conversation_with_dead_reply)(tenant)
    layer = get_channel_layer()
    assert layer is not None
    staff = await layer.new_channel()
    await layer.group_add(watch_group(tenant_id=tenant.pk, conversation_id=opened.conversation.pk), staff)
    # when the customer writes again over HTTP
    body = {"key": tenant.public_key, "client_id": "d-2", "text": "Are you there?", "resume_token": opened.resume_token}
    response = await _post(path, body)
    # then the dead reply is finished as interrupted, and staff see it before the new question
    assert response.status_code == 200
    if response.streaming:
        assert b"event: message.end" in b"".join([chunk async for chunk in response.streaming_content])
    assert (await Message.objects.aget(pk=reply.pk)).status == MessageStatus.INTERRUPTED
    published = await asyncio.wait_for(layer.receive(staff), timeout=5)
    assert (published["message_id"], published["role"]) == (reply.pk, "assistant")


async def test_another_tenants_key_cannot_finish_a_conversations_dead_reply(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    # given tenant's conversation with a dead reply
    opened, reply = await sync_to_async(_conversation_with_dead_reply)(tenant)
    # when its resume token is sent with another tenant's key (from a server: no Origin)
    body = {"key": other_tenant.public_key, "client_id": "d-2", "text": "Hi", "resume_token": opened.resume_token}
    response = await _post(MESSAGES, body, origin="")
    # then that tenant gets a new conversation of its own, and the reply is left for its own tenant
    assert response.status_code == 200, response.content
    assert response.json()["conversation_id"] != opened.conversation.pk
    assert (await Message.objects.aget(pk=reply.pk)).status == MessageStatus.STREAMING
    assert await Message.objects.filter(tenant=other_tenant, conversation=opened.conversation).acount() == 0
