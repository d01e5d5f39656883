"""The widget websocket protocol, end to end through the ASGI application and the real database."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.db import DataError

from chat import engine, services
from chat.models import Conversation, ConversationRating, Message, MessageFeedback, MessageRole, MessageStatus
from chat.protocol import MAX_MESSAGE_CHARS
from chat.services import reply_abandoned_after
from chat.tests.conftest import Connect, HeldTurn, reply_left_streaming, settled_message
from escalations.watch import watch_group
from routing import services as routing_services
from routing.guardrails import FLAG_SECRET
from routing.models import CostEvent, GuardrailEvent
from routing.phrases import PHRASES
from routing.providers.base import Finish, ProviderRequest, StreamEvent, TextChunk, Usage
from routing.providers.fake import Script, ScriptedProvider
from routing.registry import override_providers
from supportai.models import Tenant

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


async def test_unknown_key_is_closed_with_4404(connect: Connect) -> None:
    client = await connect(None, key="pk_nope", expect_ready=False)
    assert await client.communicator.receive_output(timeout=10) == {"type": "websocket.close", "code": 4404}


async def test_foreign_origin_is_closed_with_4403(connect: Connect, tenant: Tenant) -> None:
    client = await connect(tenant, origin="https://evil.example.net", expect_ready=False)
    assert await client.communicator.receive_output(timeout=10) == {"type": "websocket.close", "code": 4403}


async def test_origin_that_is_no_url_is_closed_with_4403(connect: Connect, tenant: Tenant) -> None:
    client = await connect(tenant, origin="http://[x", expect_ready=False)
    assert await client.communicator.receive_output(timeout=10) == {"type": "websocket.close", "code": 4403}


async def test_session_ready_opens_a_conversation(connect: Connect, tenant: Tenant) -> None:
    client = await connect(tenant)
    ready = client.ready
    conversation = await Conversation.objects.aget(pk=ready["conversation_id"])
    assert conversation.tenant_id == tenant.pk
    assert ready["resume_token"] and ready["history"] == []
    assert "Alpha Clinic" in ready["greeting"]
    assert ready["branding"]["colour"] == tenant.brand_colour


async def test_demo_page_origin_is_the_server_itself(connect: Connect, tenant: Tenant) -> None:
    client = await connect(tenant, origin="http://testserver")
    assert client.ready["type"] == "session.ready"


async def test_message_is_acked_streamed_and_stored(connect: Connect, tenant: Tenant) -> None:
    # given
    client = await connect(tenant)
    # when
    frames = await client.ask("What are your opening hours?", "c-1")
    # then
    kinds = [frame["type"] for frame in frames]
    assert kinds[0] == "message.ack" and kinds[1] == "message.start" and kinds[-1] == "message.end"
    assert "message.delta" in kinds
    end = frames[-1]
    streamed = "".join(frame["text"] for frame in frames if frame["type"] == "message.delta")
    assert end["text"] == streamed
    assert set(end) >= {"message_id", "text", "sources", "tier", "model", "escalated", "confidence"}
    stored = await Message.objects.aget(pk=end["message_id"])
    assert stored.role == MessageRole.ASSISTANT and stored.status == MessageStatus.COMPLETE
    assert stored.text == end["text"] and stored.tenant_id == tenant.pk
    customer = await Message.objects.aget(pk=frames[0]["message_id"])
    assert customer.text == "What are your opening hours?" and customer.client_id == "c-1"


async def test_resend_with_same_client_id_is_idempotent(connect: Connect, tenant: Tenant) -> None:
    client = await connect(tenant)
    first = await client.ask("Do you sell gift cards?", "same-id")
    await client.send({"type": "message.send", "client_id": "same-id", "text": "Do you sell gift cards?"})
    ack = await client.receive()
    replay = await client.receive()
    assert ack == {"type": "message.ack", "client_id": "same-id", "message_id": first[0]["message_id"]}
    assert replay["type"] == "message.end" and replay["message_id"] == first[-1]["message_id"]
    count = await Message.objects.filter(conversation_id=client.ready["conversation_id"]).acount()
    assert count == 2


async def test_a_client_id_reused_for_another_text_is_refused_and_answers_nothing(
    connect: Connect, tenant: Tenant
) -> None:
    # given a question answered under its client_id
    client = await connect(tenant)
    first = await client.ask("Do you sell gift cards?", "same-id")
    # when another question comes with that client_id
    await client.send({"type": "message.send", "client_id": "same-id", "text": "Where do I park?"})
    # then it is refused, rather than acked and "answered" with the first question's answer
    error = await client.receive()
    assert (error["type"], error["code"], error["field"]) == ("error", "bad_request", "client_id")
    assert "client_id" not in error  # no question to mark failed: a resend would be refused again
    await client.send({"type": "ping"})
    assert await client.receive() == {"type": "pong"}
    # and the same text (surrounding whitespace aside) is still a resend
    await client.send({"type": "message.send", "client_id": "same-id", "text": " Do you sell gift cards?\n"})
    assert (await client.receive())["message_id"] == first[0]["message_id"]
    assert (await client.receive())["message_id"] == first[-1]["message_id"]
    assert await Message.objects.filter(conversation_id=client.ready["conversation_id"]).acount() == 2


async def test_a_resend_on_another_connection_while_the_first_prepares_its_answer_is_not_answered_twice(
    connect: Connect, tenant: Tenant, first_turn_held: HeldTurn
) -> None:
    # given a question whose answer is under way on one connection but has no reply row yet
    provider = ScriptedProvider(name="local")
    frame = {"type": "message.send", "client_id": "w-1", "text": "Tell me about memberships"}
    with override_providers({"local": provider}):
        first = await connect(tenant)
        second = await connect(tenant, resume=first.ready["resume_token"])
        await first.send(frame)
        ack = await first.receive()
        assert await asyncio.to_thread(first_turn_held.entered.wait, 30)
        # when it is resent on another connection meanwhile
        await second.send(frame)
        resent_ack = await second.receive()
        first_turn_held.release.set()
        end = (await first.receive_until("message.end"))[-1]
        also_sent = []
        while not await second.communicator.receive_nothing(timeout=1):
            also_sent.append(await second.receive())
    # then that connection gets the ack and no answer of its own, only the first one's final end
    assert resent_ack == ack
    assert [frame for frame in also_sent if frame["type"] in {"message.start", "message.end"}] == [end]
    assert end["status"] == "complete" and len(provider.requests) == 1
    replies = Message.objects.filter(conversation_id=first.ready["conversation_id"], role=MessageRole.ASSISTANT)
    assert [pk async for pk in replies.values_list("pk", flat=True)] == [end["message_id"]]
    assert await CostEvent.objects.filter(tenant=tenant).acount() == 1


async def test_a_question_cut_off_before_its_reply_row_is_answered_when_resent(
    connect: Connect, tenant: Tenant, first_turn_held: HeldTurn
) -> None:
    # given a question whose turn is retrieving (no reply row yet) when the customer leaves
    frame = {"type": "message.send", "client_id": "w-2", "text": "Tell me about memberships"}
    first = await connect(tenant)
    await first.send(frame)
    ack = await first.receive()
    assert await asyncio.to_thread(first_turn_held.entered.wait, 30)
    await first.disconnect()
    # when it is resent on a new connection
    second = await connect(tenant, resume=first.ready["resume_token"])
    with override_providers({"local": ScriptedProvider(name="local")}):
        await second.send(frame)
        frames = await second.receive_until("message.end")
    # then the cut-off turn gave up its claim, and the question is answered there
    assert frames[0] == ack and frames[1]["type"] == "message.start"
    assert frames[-1]["status"] == "complete"


async def test_a_resend_of_a_question_whose_server_died_mid_answer_gets_the_interrupted_end(
    connect: Connect, tenant: Tenant
) -> None:
    # given a question whose reply row a server left streaming when it died, and staff watching
    layer = get_channel_layer()
    assert layer is not None
    first = await connect(tenant)
    conversation_id = first.ready["conversation_id"]
    frame = {"type": "message.send", "client_id": "w-3", "text": "Tell me about memberships"}
    question = await _received(tenant, conversation_id, "w-3")
    reply = await sync_to_async(reply_left_streaming)(
        tenant, question, age=reply_abandoned_after() + timedelta(seconds=1)
    )
    staff = await layer.new_channel()
    await layer.group_add(watch_group(tenant_id=tenant.pk, conversation_id=conversation_id), staff)
    provider = ScriptedProvider(name="local")
    with override_providers({"local": provider}):
        # when the customer resends it
        await first.send(frame)
        ack = await first.receive()
        end = await first.receive()
        # and once more
        await first.send(frame)
        again = [await first.receive(), await first.receive()]
    # then the cut-short answer ends as interrupted, nothing is generated, and staff see it final once
    assert ack == {"type": "message.ack", "client_id": "w-3", "message_id": question.pk}
    assert (end["type"], end["message_id"], end["status"], end["text"]) == ("message.end", reply.pk, "interrupted", "")
    assert again == [ack, end]
    assert provider.requests == []
    published = await asyncio.wait_for(layer.receive(staff), timeout=5)
    assert (published["message_id"], published["role"]) == (reply.pk, "assistant")
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(layer.receive(staff), timeout=0.5)


async def test_another_tenants_socket_cannot_finish_a_dead_reply(
    connect: Connect, tenant: Tenant, other_tenant: Tenant
) -> None:
    # given tenant's question whose reply row a dead server left streaming
    ours = await connect(tenant)
    question = await _received(tenant, ours.ready["conversation_id"], "w-4")
    reply = await sync_to_async(reply_left_streaming)(tenant, question, age=2 * reply_abandoned_after())
    # when another tenant's widget resumes with its token and sends the same client_id
    theirs = await connect(other_tenant, origin="https://bravo.example.com", resume=ours.ready["resume_token"])
    frames = await theirs.ask("Tell me about memberships", "w-4")
    # then that is the other tenant's own new question, answered there; tenant's reply is untouched
    assert theirs.ready["conversation_id"] != ours.ready["conversation_id"]
    assert frames[0]["message_id"] != question.pk and frames[-1]["message_id"] != reply.pk
    assert (await Message.objects.aget(pk=reply.pk)).status == MessageStatus.STREAMING


async def _received(tenant: Tenant, conversation_id: int, client_id: str) -> Message:
    """A question stored on an earlier connection (whose server then died)."""
    conversation = await Conversation.objects.aget(pk=conversation_id)
    received = await sync_to_async(services.message_receive)(
        tenant=tenant, conversation=conversation, client_id=client_id, text="Tell me about memberships"
    )
    return received.message


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("not json", "bad_request"),
        ("[1, 2]", "bad_request"),
        ('{"type": "launch.missiles"}', "bad_request"),
        ('{"no": "type"}', "bad_request"),
        ('{"type": "message.send", "client_id": "x"}', "bad_request"),
        ('{"type": "message.send", "client_id": 5, "text": "hi"}', "bad_request"),
        ('{"type": "message.send", "client_id": "x", "text": "' + "a" * (MAX_MESSAGE_CHARS + 1) + '"}', "too_long"),
        ('{"type": "feedback", "message_id": "1", "value": "up"}', "bad_request"),
        ('{"type": "feedback", "message_id": 1, "value": "meh"}', "bad_request"),
        ('{"type": "rating", "rating": 6}', "bad_request"),
        ('{"type": "rating", "rating": true}', "bad_request"),
        ('{"type": "feedback", "message_id": 999999, "value": "up"}', "not_found"),
    ],
)
async def test_bad_frames_get_an_error_and_the_socket_stays_usable(
    connect: Connect, tenant: Tenant, raw: str, code: str
) -> None:
    client = await connect(tenant)
    await client.send_raw(raw)
    error = await client.receive()
    assert error["type"] == "error" and error["code"] == code and error["message"]
    await client.send({"type": "ping"})
    assert await client.receive() == {"type": "pong"}


async def test_the_text_limit_counts_the_text_as_stored_without_surrounding_whitespace(
    connect: Connect, tenant: Tenant
) -> None:
    # given the longest text, sent with a line break and spaces around it (stripped before storing)
    client = await connect(tenant)
    longest = "a" * MAX_MESSAGE_CHARS
    # when
    frames = await client.ask(" \n" + longest + "\n ", "w-1")
    await client.send({"type": "message.send", "client_id": "w-2", "text": " " + longest + "a "})
    error = await client.receive()
    # then it is taken and stored as the limit reads it; a character more is too long, padded or not
    assert frames[0]["type"] == "message.ack"
    assert (await Message.objects.aget(pk=frames[0]["message_id"])).text == longest
    assert (error["code"], error["field"]) == ("too_long", "text")


@pytest.mark.parametrize(
    ("frame", "code", "field"),
    [
        ({"type": "feedback", "message_id": 1, "value": "meh"}, "bad_request", "value"),
        ({"type": "feedback", "value": "up"}, "bad_request", "message_id"),
        ({"type": "feedback", "message_id": 999_999, "value": "up"}, "not_found", "message_id"),
        ({"type": "rating", "rating": 0}, "bad_request", "rating"),
        ({"type": "rating"}, "bad_request", "rating"),
    ],
)
async def test_an_error_about_one_field_names_it(
    connect: Connect, tenant: Tenant, frame: dict[str, Any], code: str, field: str
) -> None:
    client = await connect(tenant)
    await client.send(frame)
    error = await client.receive()
    assert (error["type"], error["code"], error.get("field")) == ("error", code, field)


async def test_binary_and_oversized_frames_are_refused(connect: Connect, tenant: Tenant) -> None:
    client = await connect(tenant)
    await client.send_raw(data=b"\x00\x01")
    assert (await client.receive())["code"] == "bad_request"
    await client.send_raw('{"type": "ping", "pad": "' + "x" * 20_000 + '"}')
    assert (await client.receive())["code"] == "too_long"


async def test_message_flood_is_rate_limited(connect: Connect, tenant: Tenant, settings) -> None:
    settings.CHAT_MESSAGES_PER_MINUTE_PER_CONNECTION = 2
    client = await connect(tenant)
    await client.ask("one", "r-1")
    await client.ask("two", "r-2")
    await client.send({"type": "message.send", "client_id": "r-3", "text": "three"})
    error = await client.receive()
    assert error["type"] == "error" and error["code"] == "rate_limited"
    assert not await Message.objects.filter(client_id="r-3").aexists()


async def test_frame_flood_closes_with_4429(connect: Connect, tenant: Tenant, settings) -> None:
    settings.CHAT_FRAMES_PER_MINUTE_PER_CONNECTION = 5
    client = await connect(tenant)
    for _ in range(5):
        await client.send({"type": "ping"})
        assert await client.receive() == {"type": "pong"}
    await client.send({"type": "ping"})
    assert (await client.receive())["code"] == "rate_limited"
    assert await client.communicator.receive_output(timeout=10) == {"type": "websocket.close", "code": 4429}


async def test_feedback_is_one_per_answer_and_updates(connect: Connect, tenant: Tenant) -> None:
    client = await connect(tenant)
    answer = (await client.ask("How do I cancel?", "f-1"))[-1]
    await client.send({"type": "feedback", "message_id": answer["message_id"], "value": "up"})
    assert (await client.receive())["type"] == "feedback.ack"
    await client.send({"type": "feedback", "message_id": answer["message_id"], "value": "down", "comment": "vague"})
    assert (await client.receive())["type"] == "feedback.ack"
    feedback = await MessageFeedback.objects.aget(message_id=answer["message_id"])
    assert (feedback.value, feedback.comment) == ("down", "vague")
    assert await MessageFeedback.objects.acount() == 1


async def test_feedback_on_own_question_or_foreign_answer_is_not_found(
    connect: Connect, tenant: Tenant, other_tenant: Tenant
) -> None:
    # given an answer in the other tenant's conversation, and one in another conversation of this tenant
    theirs = await connect(other_tenant, origin="https://bravo.example.com")
    their_answer = (await theirs.ask("Hello?", "x-1"))[-1]
    neighbour = await connect(tenant)
    neighbours_answer = (await neighbour.ask("Hello?", "n-1"))[-1]
    mine = await connect(tenant)
    my_question = (await mine.ask("Hi", "m-1"))[0]
    # when / then
    for message_id in (their_answer["message_id"], neighbours_answer["message_id"], my_question["message_id"]):
        await mine.send({"type": "feedback", "message_id": message_id, "value": "down"})
        error = await mine.receive()
        assert error["code"] == "not_found"
    assert not await MessageFeedback.objects.aexists()


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (MessageStatus.STREAMING, "Feedback can be given once the answer is complete."),
        (MessageStatus.FAILED, "Feedback cannot be given on a failed answer."),
    ],
)
async def test_feedback_on_an_answer_still_streaming_or_failed_is_refused(
    connect: Connect, tenant: Tenant, status: MessageStatus, message: str
) -> None:
    # given an answer of this conversation that is still being written, or that failed
    client = await connect(tenant)
    answer = (await client.ask("How do I cancel?", "f-1"))[-1]
    await Message.objects.filter(pk=answer["message_id"]).aupdate(status=status)
    # when the customer gives feedback on it
    await client.send({"type": "feedback", "message_id": answer["message_id"], "value": "down"})
    # then it is refused, naming the field, and nothing is stored
    assert await client.receive() == {
        "type": "error",
        "code": "bad_request",
        "message": message,
        "field": "message_id",
    }
    assert not await MessageFeedback.objects.aexists()


async def test_feedback_on_an_interrupted_answer_is_taken(connect: Connect, tenant: Tenant) -> None:
    # an answer the customer stopped (or whose connection dropped) ended, with what it had said
    client = await connect(tenant)
    answer = (await client.ask("How do I cancel?", "f-1"))[-1]
    await Message.objects.filter(pk=answer["message_id"]).aupdate(status=MessageStatus.INTERRUPTED)
    await client.send({"type": "feedback", "message_id": answer["message_id"], "value": "down"})
    assert (await client.receive())["type"] == "feedback.ack"


async def test_rating_is_stored_once_per_conversation(connect: Connect, tenant: Tenant) -> None:
    client = await connect(tenant)
    await client.send({"type": "rating", "rating": 4})
    assert await client.receive() == {"type": "rating.ack", "rating": 4}
    await client.send({"type": "rating", "rating": 5, "comment": "great"})
    assert await client.receive() == {"type": "rating.ack", "rating": 5}
    rating = await ConversationRating.objects.aget(conversation_id=client.ready["conversation_id"])
    assert (rating.rating, rating.comment, rating.tenant_id) == (5, "great", tenant.pk)


async def test_resume_replays_history_in_the_same_conversation(connect: Connect, tenant: Tenant) -> None:
    first = await connect(tenant)
    answer = (await first.ask("Where can I park?", "p-1"))[-1]
    await first.disconnect()
    again = await connect(tenant, resume=first.ready["resume_token"])
    assert again.ready["conversation_id"] == first.ready["conversation_id"]
    history = again.ready["history"]
    assert [m["role"] for m in history] == ["customer", "assistant"]
    assert history[1]["message_id"] == answer["message_id"] and history[1]["text"] == answer["text"]


async def test_resume_token_of_another_tenant_starts_a_fresh_conversation(
    connect: Connect, tenant: Tenant, other_tenant: Tenant
) -> None:
    theirs = await connect(other_tenant, origin="https://bravo.example.com")
    await theirs.ask("secret question", "s-1")
    mine = await connect(tenant, resume=theirs.ready["resume_token"])
    assert mine.ready["conversation_id"] != theirs.ready["conversation_id"]
    assert mine.ready["history"] == []
    conversation = await Conversation.objects.aget(pk=mine.ready["conversation_id"])
    assert conversation.tenant_id == tenant.pk


async def test_agent_message_reaches_the_customer_through_the_group(connect: Connect, tenant: Tenant) -> None:
    from channels.layers import get_channel_layer

    client = await connect(tenant)
    layer = get_channel_layer()
    group = f"chat.conversation.{client.ready['conversation_id']}"
    await layer.group_send(
        group, {"type": "agent.message", "message_id": 7, "text": "Hi, I'm Sam", "agent_name": "Sam"}
    )
    assert await client.receive() == {
        "type": "agent.message",
        "message_id": 7,
        "text": "Hi, I'm Sam",
        "agent_name": "Sam",
    }


async def test_unknown_proposal_is_not_found(connect: Connect, tenant: Tenant) -> None:
    client = await connect(tenant)
    await client.send({"type": "proposal.confirm", "proposal_id": "p1"})
    assert (await client.receive())["code"] == "not_found"


@pytest.mark.parametrize(
    ("question", "language"),
    [("返金について教えてください", "ja"), ("Как оформить возврат?", "ru"), ("Tell me about refunds", "en")],
)
async def test_our_own_failure_is_reported_in_the_customers_language(
    connect: Connect, tenant: Tenant, question: str, language: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a cost ledger that refuses the turn's rows (a database error in our own code, after the
    # answer streamed; vendors' impossible token counts no longer get that far, see Usage)
    def refusing_ledger(**kwargs: Any) -> None:
        raise DataError("value too long for type character varying(100)")

    monkeypatch.setattr(routing_services, "cost_events_record", refusing_ledger)
    answering = ScriptedProvider(name="local", scripts=(Script(deltas=("Sure.",)),))
    client = await connect(tenant)
    # when
    with override_providers({"local": answering}):
        end = (await client.ask(question, "f-1"))[-1]
    # then the customer is told in their language, and the stored reply says the same
    assert end["text"] == PHRASES[language].failed
    reply = await Message.objects.aget(pk=end["message_id"])
    assert (reply.status, reply.text) == (MessageStatus.FAILED, PHRASES[language].failed)


async def test_disconnect_mid_stream_stores_the_answer_as_interrupted(connect: Connect, tenant: Tenant) -> None:
    # given a provider that is still thinking when the customer leaves
    slow = ScriptedProvider(name="local", scripts=(Script(deltas=("never",), delay_s=30),))
    with override_providers({"local": slow}):
        client = await connect(tenant)
        await client.send({"type": "message.send", "client_id": "d-1", "text": "Tell me about memberships"})
        start = (await client.receive_until("message.start"))[-1]
        # when
        await client.disconnect()
    # then the generation task was cancelled and the answer row is final, not left streaming (the
    # write is shielded, so it completes even if the test client stops waiting for the consumer)
    reply = await settled_message(start["message_id"])
    assert reply.status == MessageStatus.INTERRUPTED
    assert reply.text == ""


class _StallsAfter:
    """Streams one chunk, then is still writing when the customer leaves."""

    name = "local"

    def __init__(self, text: str) -> None:
        self.text = text

    def available(self) -> bool:
        return True

    async def stream(self, request: ProviderRequest) -> AsyncIterator[StreamEvent]:
        yield TextChunk(self.text)
        await asyncio.Event().wait()
        yield Finish(Usage())


async def test_an_answer_cut_short_is_stored_through_the_output_guardrail(connect: Connect, tenant: Tenant) -> None:
    # given a model that has started to write out a secret when the customer leaves
    leaking = _StallsAfter("Sure, the key is sk_live_abcdefghijklmnop and")
    with override_providers({"local": leaking}):
        client = await connect(tenant)
        await client.send({"type": "message.send", "client_id": "d-3", "text": "Tell me about memberships"})
        delta = (await client.receive_until("message.delta"))[-1]
        # when
        await client.disconnect()
    # then the stored partial answer (replayed in history, shown to staff) is the checked text
    reply = await settled_message(delta["message_id"])
    assert reply.status == MessageStatus.INTERRUPTED
    assert "sk_live_" not in reply.text and reply.text == PHRASES["en"].withheld
    flags = GuardrailEvent.objects.filter(tenant=tenant, message_id=reply.pk, stage="output")
    assert [flag async for flag in flags.values_list("flag", flat=True)] == [FLAG_SECRET]
    # and the event staff review keeps the text without the secret
    assert [excerpt async for excerpt in flags.values_list("excerpt", flat=True)] == ["Sure, the key is [secret] and"]


async def test_an_answer_cut_short_whose_check_fails_is_stored_without_its_text(
    connect: Connect, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given an output check that cannot run
    def broken_check(**kwargs: Any) -> None:
        raise DataError("guardrail events table unavailable")

    monkeypatch.setattr(engine, "partial_answer_check", broken_check)
    with override_providers({"local": _StallsAfter("Sure, the key is sk_live_abcdefghijklmnop and")}):
        client = await connect(tenant)
        await client.send({"type": "message.send", "client_id": "d-4", "text": "Tell me about memberships"})
        delta = (await client.receive_until("message.delta"))[-1]
        # when
        await client.disconnect()
    # then the row is final all the same, and keeps nothing unchecked
    reply = await settled_message(delta["message_id"])
    assert (reply.status, reply.text, reply.sources) == (MessageStatus.INTERRUPTED, "", [])


async def test_disconnect_while_the_reply_row_is_created_leaves_it_interrupted(
    connect: Connect, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a reply insert that is still running on its database thread when the customer leaves
    entered, release = threading.Event(), threading.Event()
    real_start = engine.assistant_message_start

    def slow_start(**kwargs: Any) -> Message:
        entered.set()
        release.wait(10)
        return real_start(**kwargs)

    monkeypatch.setattr(engine, "assistant_message_start", slow_start)
    client = await connect(tenant)
    await client.send({"type": "message.send", "client_id": "d-2", "text": "Tell me about memberships"})
    await client.receive_until("message.ack")
    assert await asyncio.to_thread(entered.wait, 30)

    # when the socket closes mid-insert, and the insert then completes
    disconnecting = asyncio.ensure_future(client.disconnect())
    await asyncio.sleep(0.2)
    release.set()
    await disconnecting

    # then the reply row exists and is final
    replies = Message.objects.filter(tenant=tenant, role=MessageRole.ASSISTANT)
    for _ in range(100):
        if await replies.aexists() and not await replies.filter(status=MessageStatus.STREAMING).aexists():
            break
        await asyncio.sleep(0.1)
    assert [reply.status async for reply in replies] == [MessageStatus.INTERRUPTED]


async def test_an_answer_reaches_every_socket_of_its_conversation_once(
    connect: Connect, tenant: Tenant, other_tenant: Tenant
) -> None:
    # given two tabs of one conversation, another conversation of the tenant, and another tenant's widget
    first = await connect(tenant)
    second = await connect(tenant, resume=first.ready["resume_token"])
    elsewhere = await connect(tenant)
    theirs = await connect(other_tenant, origin="https://bravo.example.com")
    # when the first tab asks
    frames = await first.ask("What are your opening hours?", "t-1")
    # then the other tab gets the same final message.end, and the asking tab gets it once
    end = frames[-1]
    assert await second.receive() == end
    assert await first.communicator.receive_nothing(timeout=0.5)
    assert await second.communicator.receive_nothing(timeout=0.1)
    # and no other conversation, of this tenant or another, hears of it
    assert await elsewhere.communicator.receive_nothing(timeout=0.1)
    assert await theirs.communicator.receive_nothing(timeout=0.1)


async def test_a_socket_whose_resend_got_the_ack_alone_gets_the_answer_when_it_is_ready(
    connect: Connect, tenant: Tenant, first_turn_held: HeldTurn
) -> None:
    # given a question being answered on one socket, resent on a reconnected one meanwhile (ack alone)
    frame = {"type": "message.send", "client_id": "t-2", "text": "Tell me about memberships"}
    with override_providers({"local": ScriptedProvider(name="local")}):
        first = await connect(tenant)
        await first.send(frame)
        await first.receive()
        assert await asyncio.to_thread(first_turn_held.entered.wait, 30)
        second = await connect(tenant, resume=first.ready["resume_token"])
        await second.send(frame)
        await second.receive()
        # when the first socket's answer is ready
        first_turn_held.release.set()
        end = (await first.receive_until("message.end"))[-1]
        # then the reconnected socket gets it too
        assert (await second.receive_until("message.end"))[-1] == end
