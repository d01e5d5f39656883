"""The widget socket's error frames: their text in the customer's language, their code unchanged."""

from __future__ import annotations

import pytest

from chat.models import Message, MessageStatus
from chat.protocol import MAX_MESSAGE_CHARS
from chat.tests.conftest import Connect
from routing.providers.fake import Script, ScriptedProvider
from routing.registry import override_providers
from supportai.models import Tenant

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]

# the modules the chat socket logs its failures through (the consumer and the turns it owns)
SOCKET_LOGGERS = ("chat.consumers", "chat.turn_queue")
NOT_JSON = "not json"
TOO_LONG = {"type": "message.send", "client_id": "long", "text": "a" * (MAX_MESSAGE_CHARS + 1)}


async def test_errors_are_in_the_language_the_customer_writes_in(connect: Connect, tenant: Tenant, settings) -> None:
    # given a customer who wrote in German
    settings.CHAT_MESSAGES_PER_MINUTE_PER_CONNECTION = 1
    client = await connect(tenant)
    await client.ask("Wie kann ich meine Buchung stornieren?", "de-1")
    # when they send what the socket refuses
    await client.send_raw(NOT_JSON)
    not_json = await client.receive()
    await client.send(TOO_LONG)
    too_long = await client.receive()
    await client.send({"type": "feedback", "message_id": 999_999, "value": "up"})
    not_found = await client.receive()
    await client.send({"type": "message.send", "client_id": "de-2", "text": "Und die Gebühr?"})
    rate_limited = await client.receive()
    # then the codes are the protocol's, the words German
    assert not_json == {"type": "error", "code": "bad_request", "message": "Frames müssen JSON-Objekte sein."}
    assert too_long == {
        "type": "error",
        "code": "too_long",
        "message": "'text' ist länger als 2000 Zeichen.",
        "field": "text",
    }
    assert not_found == {
        "type": "error",
        "code": "not_found",
        "message": "Diese Antwort gibt es in diesem Gespräch nicht.",
        "field": "message_id",
    }
    assert rate_limited == {
        "type": "error",
        "code": "rate_limited",
        "message": "Sie senden Nachrichten zu schnell; bitte warten Sie einen Moment.",
    }


async def test_errors_are_in_arabic_for_a_customer_who_writes_arabic(connect: Connect, tenant: Tenant) -> None:
    # given a customer who wrote in Arabic
    client = await connect(tenant)
    await client.ask("كيف يمكنني إلغاء حجزي؟", "ar-1")
    # when they send what the socket refuses
    await client.send_raw(NOT_JSON)
    not_json = (await client.receive_until("error"))[-1]  # after the handoff banner, should the question open one
    await client.send(TOO_LONG)
    too_long = await client.receive()
    # then the codes and the field are the protocol's, the words Arabic (the field name and the limit as they are)
    assert not_json == {"type": "error", "code": "bad_request", "message": "يجب أن تكون الإطارات كائنات JSON."}
    assert too_long == {
        "type": "error",
        "code": "too_long",
        "message": "يتجاوز عدد أحرف 'text' الحد المسموح به، وهو 2000.",
        "field": "text",
    }


async def test_the_socket_takes_no_language_from_accept_language(connect: Connect, tenant: Tenant) -> None:
    # given a browser asking for German, on a socket whose customer has not written yet
    client = await connect(tenant, accept_language="de-DE,de;q=0.9")
    # when it sends a frame the socket refuses
    await client.send_raw(NOT_JSON)
    # then the error is English, as docs/websocket-protocol.md says: the header chooses the language
    # only of the HTTP fallbacks' errors about the request itself
    assert await client.receive() == {"type": "error", "code": "bad_request", "message": "Frames must be JSON objects."}


async def test_errors_follow_the_customers_latest_message(connect: Connect, tenant: Tenant) -> None:
    # given a customer who wrote in French, then in English
    client = await connect(tenant)
    await client.ask("Comment annuler ma réservation ?", "fr-1")
    await client.send_raw(NOT_JSON)
    french = (await client.receive_until("error"))[-1]
    await client.ask("Sorry, how do I cancel my booking?", "en-1")
    await client.send_raw(NOT_JSON)
    english = (await client.receive_until("error"))[-1]  # after the handoff a second unknown question opens
    # then each error is in the language of the message before it
    assert french["message"] == "Les trames doivent être des objets JSON."
    assert english["message"] == "Frames must be JSON objects."


async def test_a_resumed_conversation_keeps_the_customers_language(connect: Connect, tenant: Tenant) -> None:
    # given a Japanese customer who comes back to their conversation
    first = await connect(tenant)
    await first.ask("予約をキャンセルしたいです", "ja-1")
    await first.disconnect()
    again = await connect(tenant, resume=first.ready["resume_token"])
    # when the first frame after resuming is refused
    await again.send({"type": "rating", "rating": 9})
    # then the error is Japanese (after the handoff banner, should the question have opened one)
    assert (await again.receive_until("error"))[-1] == {
        "type": "error",
        "code": "bad_request",
        "message": "'rating' は1から5の間で指定してください。",
        "field": "rating",
    }


async def test_another_tenants_conversation_lends_no_language(
    connect: Connect, tenant: Tenant, other_tenant: Tenant
) -> None:
    # given the other tenant's Japanese conversation
    theirs = await connect(other_tenant, origin="https://bravo.example.com")
    await theirs.ask("予約をキャンセルしたいです", "ja-1")
    # when its resume token is used on this tenant's widget (a fresh conversation starts)
    mine = await connect(tenant, resume=theirs.ready["resume_token"])
    await mine.send_raw(NOT_JSON)
    # then nothing of theirs shows, not even their language
    assert mine.ready["history"] == []
    assert await mine.receive() == {"type": "error", "code": "bad_request", "message": "Frames must be JSON objects."}


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        # Python refuses to read an integer of more than 4,300 digits (a ValueError, not a JSON error)
        ('{"type": "ping", "n": ' + "9" * 5_000 + "}", "bad_request"),
        ('{"type": "rating", "rating": ' + "9" * 5_000 + "}", "bad_request"),
        # ids beyond what the database stores
        ('{"type": "feedback", "message_id": ' + str(2**63) + ', "value": "up"}', "not_found"),
        ('{"type": "feedback", "message_id": ' + str(-(2**70)) + ', "value": "up"}', "not_found"),
        # text PostgreSQL cannot store: a NUL character, half a surrogate pair
        ('{"type": "message.send", "client_id": "n-1", "text": "hi\\u0000there"}', "bad_request"),
        ('{"type": "message.send", "client_id": "n-\\u0000", "text": "hi"}', "bad_request"),
        ('{"type": "message.send", "client_id": "s-1", "text": "hi \\ud83d"}', "bad_request"),
        ('{"type": "rating", "rating": 5, "comment": "\\udc00"}', "bad_request"),
    ],
)
async def test_frames_the_database_cannot_take_are_the_clients_error_not_ours(
    connect: Connect, tenant: Tenant, raw: str, code: str, caplog: pytest.LogCaptureFixture
) -> None:
    client = await connect(tenant)
    await client.send_raw(raw)
    error = await client.receive()
    assert (error["type"], error["code"]) == ("error", code), error
    assert not [record for record in caplog.records if record.name in SOCKET_LOGGERS]
    await client.send({"type": "ping"})
    assert await client.receive() == {"type": "pong"}


@pytest.mark.parametrize("key", ["pk_%00", "%00"])
async def test_a_key_the_database_cannot_take_is_an_unknown_key(connect: Connect, key: str) -> None:
    client = await connect(None, key=key, expect_ready=False)
    assert await client.communicator.receive_output(timeout=10) == {"type": "websocket.close", "code": 4404}


async def test_resending_a_question_that_was_never_answered_answers_it(connect: Connect, tenant: Tenant) -> None:
    # given a second question queued behind an answer when the customer lost the connection
    slow = ScriptedProvider(name="local", scripts=(Script(deltas=("never",), delay_s=30),))
    with override_providers({"local": slow}):
        first = await connect(tenant)
        await first.send({"type": "message.send", "client_id": "q-1", "text": "Tell me about memberships"})
        await first.receive_until("message.start")
        await first.send({"type": "message.send", "client_id": "q-2", "text": "And about parking?"})
        queued = (await first.receive_until("message.ack"))[-1]
        await first.disconnect()
    # when the widget resumes and resends it, as the protocol tells it to
    again = await connect(tenant, resume=first.ready["resume_token"])
    await again.send({"type": "message.send", "client_id": "q-2", "text": "And about parking?"})
    frames = await again.receive_until("message.end", timeout=15)
    # then the stored question is answered, once
    assert frames[0] == {"type": "message.ack", "client_id": "q-2", "message_id": queued["message_id"]}
    reply = await Message.objects.aget(reply_to_id=queued["message_id"])
    assert frames[-1]["message_id"] == reply.pk and reply.status == MessageStatus.COMPLETE
    assert await Message.objects.filter(client_id="q-2").acount() == 1


async def test_a_question_resent_while_it_waits_in_line_is_answered_once(connect: Connect, tenant: Tenant) -> None:
    # given a second question waiting behind a slow answer
    provider = ScriptedProvider(name="local", scripts=(Script(deltas=("Slow.",), delay_s=1), Script(deltas=("Fast.",))))
    with override_providers({"local": provider}):
        client = await connect(tenant)
        await client.send({"type": "message.send", "client_id": "w-1", "text": "Tell me about memberships"})
        await client.receive_until("message.start")
        # when the widget resends it before its turn
        for _ in range(2):
            await client.send({"type": "message.send", "client_id": "w-2", "text": "And about parking?"})
        frames = await client.receive_until("message.end")
        frames += await client.receive_until("message.end")
        while not await client.communicator.receive_nothing(timeout=3):  # a third answer, a handoff banner
            frames.append(await client.receive())
    # then it was answered once: two answers in all, one model call each
    assert [frame["type"] for frame in frames].count("message.end") == 2
    assert len(provider.requests) == 2
    assert await Message.objects.filter(role="assistant").acount() == 2


async def test_session_ready_names_the_language_the_customer_writes_in(connect: Connect, tenant: Tenant) -> None:
    # given a conversation whose customer has not written yet, then one who wrote in Japanese
    fresh = await connect(tenant)
    await fresh.ask("予約をキャンセルしたいです", "ja-1")
    await fresh.disconnect()
    # when the customer comes back to it
    again = await connect(tenant, resume=fresh.ready["resume_token"])
    # then session.ready names no language before they wrote, and theirs after (the widget speaks it)
    assert fresh.ready["language"] is None
    assert again.ready["language"] == "ja"


async def test_another_tenants_conversation_lends_session_ready_no_language(
    connect: Connect, tenant: Tenant, other_tenant: Tenant
) -> None:
    # given the other tenant's Japanese conversation
    theirs = await connect(other_tenant, origin="https://bravo.example.com")
    await theirs.ask("予約をキャンセルしたいです", "ja-1")
    # when its resume token is used on this tenant's widget
    mine = await connect(tenant, resume=theirs.ready["resume_token"])
    # then the fresh conversation names no language
    assert mine.ready["language"] is None
