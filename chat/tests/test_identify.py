"""``identify {token}``: verified returning customers are linked, greeted by name and remembered."""

from __future__ import annotations

from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async

from chat.customer_context import customer_context_for
from chat.models import Conversation, Message, MessageRole
from chat.tests.conftest import Connect
from routing.providers.fake import Script, ScriptedProvider
from routing.registry import override_providers
from supportai.identity import identity_secret_rotate, sign_identity
from supportai.models import EndUser, Tenant

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]
HOUR = timedelta(hours=1)


async def signed(tenant: Tenant, external_id: str = "cust-1", name: str = "Ann Lee") -> str:
    secret = await sync_to_async(identity_secret_rotate)(tenant=tenant)
    return sign_identity(secret=secret, external_id=external_id, email="ann@example.org", name=name, lifetime=HOUR)


async def test_identify_links_the_conversation_and_greets_by_name(connect: Connect, tenant: Tenant) -> None:
    # given
    token = await signed(tenant)
    client = await connect(tenant)
    # when
    await client.send({"type": "identify", "token": token})
    ack = await client.receive()
    # then
    assert ack["type"] == "identify.ack" and ack["name"] == "Ann Lee"
    assert ack["greeting"].startswith("Hi Ann, welcome back!")
    conversation = await Conversation.objects.select_related("end_user").aget(pk=client.ready["conversation_id"])
    assert conversation.end_user is not None and conversation.end_user.external_id == "cust-1"
    assert conversation.end_user.email_verified


async def test_resumed_conversation_of_a_verified_customer_greets_by_name(connect: Connect, tenant: Tenant) -> None:
    first = await connect(tenant)
    await first.send({"type": "identify", "token": await signed(tenant)})
    ack = await first.receive()
    assert ack["type"] == "identify.ack", ack

    again = await connect(tenant, resume=first.ready["resume_token"])

    assert again.ready["greeting"].startswith("Hi Ann, welcome back!")


async def test_unverified_claims_are_refused_and_the_visitor_stays_anonymous(connect: Connect, tenant: Tenant) -> None:
    await sync_to_async(identity_secret_rotate)(tenant=tenant)
    forged = sign_identity(secret="guessed-secret-" * 3, external_id="cust-1", name="Mallory", lifetime=HOUR)
    client = await connect(tenant)

    await client.send({"type": "identify", "token": forged})
    error = await client.receive()

    assert error["type"] == "error" and error["code"] == "forbidden"
    conversation = await Conversation.objects.aget(pk=client.ready["conversation_id"])
    assert conversation.end_user_id is None
    assert not await EndUser.objects.filter(full_name="Mallory").aexists()
    await client.send({"type": "ping"})
    assert (await client.receive())["type"] == "pong"


async def test_another_tenants_token_proves_nothing(connect: Connect, tenant: Tenant, other_tenant: Tenant) -> None:
    await sync_to_async(identity_secret_rotate)(tenant=tenant)
    foreign = await signed(other_tenant)
    client = await connect(tenant)

    await client.send({"type": "identify", "token": foreign})

    assert (await client.receive())["code"] == "forbidden"
    assert not await EndUser.objects.filter(tenant=tenant).aexists()


async def test_a_second_customer_cannot_take_over_a_conversation(connect: Connect, tenant: Tenant) -> None:
    # given a conversation that belongs to Ann
    client = await connect(tenant)
    await client.send({"type": "identify", "token": await signed(tenant)})
    await client.receive()
    # when Bob's token arrives on the same conversation (a shared device)
    await client.send({"type": "identify", "token": await signed(tenant, external_id="cust-2", name="Bob")})
    error = await client.receive()
    # then it is refused with the reason the widget acts on, and Ann keeps her conversation
    assert error["code"] == "forbidden" and error["reason"] == "identity_conflict"
    conversation = await Conversation.objects.select_related("end_user").aget(pk=client.ready["conversation_id"])
    assert conversation.end_user is not None and conversation.end_user.external_id == "cust-1"


async def test_verified_customer_history_reaches_the_prompt(connect: Connect, tenant: Tenant) -> None:
    # given Ann asked about refunds in an earlier conversation
    token = await signed(tenant)
    earlier = await connect(tenant)
    await earlier.send({"type": "identify", "token": token})
    await earlier.receive()
    await earlier.ask("How do refunds for class packs work?", "e-1")
    # when she comes back in a new conversation and asks again
    provider = ScriptedProvider(name="local", scripts=(Script(deltas=("Sure.",)),))
    client = await connect(tenant)
    await client.send({"type": "identify", "token": token})
    await client.receive()
    with override_providers({"local": provider}):
        await client.ask("And for memberships?", "n-1")
    # then the prompt's customer context names her and her earlier question
    system = "\n".join(block.text for block in provider.requests[-1].system)
    assert "Ann Lee" in system and "How do refunds for class packs work?" in system


async def test_anonymous_visitors_have_no_customer_context(tenant: Tenant) -> None:
    conversation = await Conversation.objects.acreate(tenant=tenant, resume_token_hash="x" * 64)
    await Message.objects.acreate(tenant=tenant, conversation=conversation, role=MessageRole.CUSTOMER, text="hi")

    assert await sync_to_async(customer_context_for)(tenant=tenant, conversation=conversation) == ""
