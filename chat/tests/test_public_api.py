"""HTTP fallbacks: whole answer and SSE, with the websocket's validation and idempotency."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.test import AsyncClient, Client

from chat import limits, services
from chat.models import Conversation, Message, MessageRole, MessageStatus
from chat.protocol import MAX_FRAME_BYTES, MAX_MESSAGE_CHARS
from chat.services import reply_abandoned_after
from chat.tests.conftest import HeldTurn, refusal, reply_left_streaming
from chat.tests.http_bodies import utf8_body
from escalations.models import Mode
from escalations.tests.factories import EscalationFactory
from routing.models import CostEvent
from routing.providers.fake import ScriptedProvider
from routing.registry import override_providers
from supportai.identity import identity_secret_rotate, sign_identity
from supportai.models import Tenant

USE_POST = "Use POST."  # the 405's message, without Accept-Language
BODY_TOO_LONG = "The request body is limited to 16,384 bytes of UTF-8, like a websocket frame."

pytestmark = pytest.mark.django_db(transaction=True)
ORIGIN = "https://alpha.example.com"


def _post(path: str, body: Any, origin: str = ORIGIN) -> Any:
    return Client().post(path, data=json.dumps(body), content_type="application/json", HTTP_ORIGIN=origin)


def test_post_message_returns_the_whole_answer(tenant: Tenant) -> None:
    response = _post("/api/v1/public/chat/messages", {"key": tenant.public_key, "client_id": "h-1", "text": "Hello?"})
    body = response.json()
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == ORIGIN
    assert body["answer"]["type"] == "message.end" and body["answer"]["text"]
    conversation = Conversation.objects.get(pk=body["conversation_id"])
    assert conversation.tenant_id == tenant.pk and conversation.channel == "api"
    assert Message.objects.filter(conversation=conversation).count() == 2


def test_post_message_resend_is_idempotent_within_the_conversation(tenant: Tenant) -> None:
    first = _post("/api/v1/public/chat/messages", {"key": tenant.public_key, "client_id": "h-1", "text": "Hi"}).json()
    again = _post(
        "/api/v1/public/chat/messages",
        {"key": tenant.public_key, "client_id": "h-1", "text": "Hi", "resume_token": first["resume_token"]},
    ).json()
    assert again["conversation_id"] == first["conversation_id"]
    assert again["answer"]["message_id"] == first["answer"]["message_id"]
    assert Message.objects.count() == 2


@pytest.mark.asyncio
@pytest.mark.parametrize("path", ["/api/v1/public/chat/messages", "/api/v1/public/chat/messages/stream"])
async def test_a_client_id_reused_for_another_text_is_refused(tenant: Tenant, path: str) -> None:
    # given a question answered under its client_id
    client = AsyncClient(headers={"Origin": ORIGIN})
    body = {"key": tenant.public_key, "client_id": "h-1", "text": "Hi"}
    first = (await client.post("/api/v1/public/chat/messages", body, "application/json")).json()
    # when another question comes with that client_id in the same conversation
    again = {**body, "text": "Where do I park?", "resume_token": first["resume_token"]}
    response = await client.post(path, again, "application/json")
    # then it is refused as the socket refuses it, and nothing is stored or answered
    error = await refusal(response, stream=path.endswith("/stream"))
    assert (error["code"], error["field"]) == ("bad_request", "client_id")
    assert await Message.objects.acount() == 2


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ("not json", 400, "bad_request"),
        ({"key": "pk_unknown", "client_id": "a", "text": "hi"}, 404, "not_found"),
        ({"client_id": "a", "text": "hi"}, 404, "not_found"),
        ({"KEY": None}, 404, "not_found"),
        ('{"key": ' + "9" * 5_000 + "}", 400, "bad_request"),  # over Python's 4,300 digits
        ("[" * 8_000 + "]" * 8_000, 400, "bad_request"),  # nested beyond the recursion limit, within 16 KiB
        ({"key": "pk_\u0000", "client_id": "a", "text": "hi"}, 400, "bad_request"),  # no text field holds NUL
        ('"a string"', 400, "bad_request"),  # JSON, not an object
        ("[1, 2]", 400, "bad_request"),
        pytest.param(b'{"key": "\xff\xfe", "client_id": "a", "text": "hi"}', 400, "bad_request", id="not-utf-8"),
    ],
)
def test_post_message_rejects_bad_requests(tenant: Tenant, body: Any, status: int, code: str) -> None:
    raw = body if isinstance(body, str | bytes) else json.dumps(body)
    response = Client().post("/api/v1/public/chat/messages", data=raw, content_type="application/json")
    assert response.status_code == status
    assert response.json()["code"] == code
    assert not Message.objects.exists()


@pytest.mark.parametrize("char", ["\U0001f600", "\u4e2d"])  # an emoji (4 UTF-8 bytes), a CJK character (3)
def test_post_message_accepts_the_longest_message_in_any_script(tenant: Tenant, char: str) -> None:
    # given the longest message the websocket accepts, sent as browsers send JSON (UTF-8, not escaped)
    text = char * MAX_MESSAGE_CHARS
    raw = json.dumps({"key": tenant.public_key, "client_id": "u-1", "text": text}, ensure_ascii=False)
    # when
    response = Client().post("/api/v1/public/chat/messages", raw.encode(), "application/json", HTTP_ORIGIN=ORIGIN)
    # then it is answered and stored as sent
    assert response.status_code == 200, response.content
    assert Message.objects.get(pk=response.json()["message_id"]).text == text


def test_post_message_counts_the_text_as_stored_without_surrounding_whitespace(tenant: Tenant) -> None:
    # given the longest text with whitespace around it, as the socket takes it
    longest = "a" * MAX_MESSAGE_CHARS
    body = {"key": tenant.public_key, "client_id": "w-1", "text": "\n " + longest + " \n"}
    # when
    taken = _post("/api/v1/public/chat/messages", body)
    refused = _post("/api/v1/public/chat/messages", {**body, "client_id": "w-2", "text": longest + "a\n"})
    # then
    assert taken.status_code == 200, taken.content
    assert Message.objects.get(pk=taken.json()["message_id"]).text == longest
    assert (refused.status_code, refused.json()["code"], refused.json()["field"]) == (413, "too_long", "text")


@pytest.mark.asyncio
async def test_sse_stream_accepts_the_longest_message_in_any_script(tenant: Tenant) -> None:
    raw = json.dumps(
        {"key": tenant.public_key, "client_id": "u-1", "text": "\U0001f600" * MAX_MESSAGE_CHARS}, ensure_ascii=False
    )
    response = await AsyncClient().post(
        "/api/v1/public/chat/messages/stream", raw.encode(), "application/json", headers={"Origin": ORIGIN}
    )
    assert response.status_code == 200
    body = b"".join([chunk async for chunk in response.streaming_content]).decode()  # type: ignore[attr-defined]
    assert body.startswith("event: message.ack") and "event: message.end" in body


def test_post_message_measures_the_body_as_received_like_a_frame(tenant: Tenant) -> None:
    # given bodies of exactly the frame limit and one byte over it once UTF-8 encoded as sent
    fields = {"key": tenant.public_key, "client_id": "b-1", "text": "Hi"}
    # when
    within = Client().post("/api/v1/public/chat/messages", utf8_body(fields, MAX_FRAME_BYTES), "application/json")
    over = Client().post("/api/v1/public/chat/messages", utf8_body(fields, MAX_FRAME_BYTES + 1), "application/json")
    # then what the websocket takes as a frame is answered, a byte more is too long and stores nothing
    assert within.status_code == 200
    assert (over.status_code, over.json()["code"], over.json()["message"]) == (413, "too_long", BODY_TOO_LONG)
    assert Message.objects.count() == 2


@pytest.mark.parametrize("path", ["/api/v1/public/chat/messages", "/api/v1/public/chat/messages/stream"])
def test_a_body_in_another_encoding_than_utf8_is_refused(tenant: Tenant, path: str) -> None:
    raw = json.dumps({"key": tenant.public_key, "client_id": "e-1", "text": "Hi"}).encode("utf-16")
    response = Client().post(path, raw, "application/json", HTTP_ORIGIN=ORIGIN)
    assert (response.status_code, response.json()["code"]) == (400, "bad_request")
    assert not Conversation.objects.exists()


def test_a_utf8_body_with_a_byte_order_mark_is_answered(tenant: Tenant) -> None:
    # the one body reader of every public endpoint ignores the mark, as RFC 8259 allows
    raw = json.dumps({"key": tenant.public_key, "client_id": "bom-1", "text": "Hi \u00e9"}).encode("utf-8-sig")
    response = Client().post("/api/v1/public/chat/messages", raw, "application/json", HTTP_ORIGIN=ORIGIN)
    assert response.status_code == 200
    assert Message.objects.filter(conversation__tenant=tenant, text="Hi \u00e9").count() == 1


@pytest.mark.parametrize("path", ["/api/v1/public/chat/messages", "/api/v1/public/chat/messages/stream"])
@pytest.mark.parametrize("size", [3_000_000, MAX_FRAME_BYTES * 10])  # over DATA_UPLOAD_MAX_MEMORY_SIZE, under it
def test_a_body_far_over_the_frame_limit_gets_the_protocols_error(tenant: Tenant, path: str, size: int) -> None:
    fields = {"key": tenant.public_key, "client_id": "big-1", "text": "Hi"}
    response = Client().post(path, utf8_body(fields, size), "application/json", HTTP_ORIGIN=ORIGIN)
    assert response.status_code == 413 and response["Access-Control-Allow-Origin"] == ORIGIN
    assert response.json() == {"type": "error", "code": "too_long", "message": BODY_TOO_LONG}
    assert not Conversation.objects.exists()


def test_a_content_length_of_thousands_of_digits_is_too_long(tenant: Tenant) -> None:
    body = json.dumps({"key": tenant.public_key, "client_id": "c-1", "text": "Hi"})
    response = Client().post(
        "/api/v1/public/chat/messages", body, "application/json", HTTP_ORIGIN=ORIGIN, CONTENT_LENGTH="9" * 5_000
    )
    assert (response.status_code, response.json()["code"]) == (413, "too_long")


def test_a_content_length_that_is_not_a_number_is_a_bad_request(tenant: Tenant) -> None:
    body = json.dumps({"key": tenant.public_key, "client_id": "c-1", "text": "Hi"})
    response = Client().post(
        "/api/v1/public/chat/messages", body, "application/json", HTTP_ORIGIN=ORIGIN, CONTENT_LENGTH="many"
    )
    assert (response.status_code, response.json()["code"]) == (400, "bad_request")
    assert response["Access-Control-Allow-Origin"] == ORIGIN


def test_post_message_validates_like_the_websocket(tenant: Tenant) -> None:
    missing = _post("/api/v1/public/chat/messages", {"key": tenant.public_key, "client_id": "a"})
    too_long = _post("/api/v1/public/chat/messages", {"key": tenant.public_key, "client_id": "a", "text": "x" * 2001})
    assert (missing.status_code, missing.json()["code"]) == (400, "bad_request")
    assert (too_long.status_code, too_long.json()["code"]) == (413, "too_long")


@pytest.mark.parametrize(
    ("fields", "status", "code"),
    [
        ({"resume_token": 5}, 400, "bad_request"),
        ({"resume_token": ["x"]}, 400, "bad_request"),
        ({"identity_token": False}, 400, "bad_request"),
        ({"identity_token": 0}, 400, "bad_request"),
        ({"identity_token": {}}, 400, "bad_request"),
        ({"identity_token": "x" * 4_097}, 413, "too_long"),
    ],
)
def test_post_message_refuses_tokens_that_are_not_text(tenant: Tenant, fields: Any, status: int, code: str) -> None:
    body = {"key": tenant.public_key, "client_id": "a", "text": "hi", **fields}
    response = _post("/api/v1/public/chat/messages", body)
    assert (response.status_code, response.json()["code"]) == (status, code)
    assert not Conversation.objects.exists()


def test_post_message_takes_null_tokens_as_absent(tenant: Tenant) -> None:
    body = {"key": tenant.public_key, "client_id": "a", "text": "hi", "resume_token": None, "identity_token": None}
    response = _post("/api/v1/public/chat/messages", body)
    assert response.status_code == 200 and response.json()["resume_token"]


def test_post_message_refuses_foreign_origin(tenant: Tenant) -> None:
    response = _post(
        "/api/v1/public/chat/messages",
        {"key": tenant.public_key, "client_id": "a", "text": "hi"},
        origin="https://evil.example",
    )
    assert response.status_code == 403
    assert not Conversation.objects.exists()


@pytest.mark.parametrize("origin", ["http://[x", "http://[x]"])
@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/public/chat/messages",
        "/api/v1/public/chat/messages/stream",
        "/api/v1/public/chat/escalate",
        "/api/v1/public/chat/proposals/confirm",
        "/api/v1/public/chat/proposals/reject",
    ],
)
def test_an_origin_that_is_no_url_is_forbidden(tenant: Tenant, path: str, origin: str) -> None:
    response = _post(path, {"key": tenant.public_key, "client_id": "a", "text": "hi"}, origin=origin)
    assert (response.status_code, response.json()["code"]) == (403, "forbidden")
    assert not Conversation.objects.exists()


def test_other_tenants_resume_token_opens_a_new_conversation(tenant: Tenant, other_tenant: Tenant) -> None:
    theirs = _post(
        "/api/v1/public/chat/messages",
        {"key": other_tenant.public_key, "client_id": "a", "text": "hi"},
        origin="https://bravo.example.com",
    ).json()
    mine = _post(
        "/api/v1/public/chat/messages",
        {"key": tenant.public_key, "client_id": "a", "text": "hi", "resume_token": theirs["resume_token"]},
    ).json()
    assert mine["conversation_id"] != theirs["conversation_id"]
    assert Conversation.objects.get(pk=mine["conversation_id"]).tenant_id == tenant.pk


def test_post_message_is_rate_limited_per_ip(tenant: Tenant, settings, monkeypatch) -> None:
    settings.CHAT_MESSAGES_PER_MINUTE_PER_IP = 1
    # both posts inside one minute bucket, however long the first answer takes
    monkeypatch.setattr(limits, "wall_clock", lambda: 1_800_000_010.0)
    ok = _post("/api/v1/public/chat/messages", {"key": tenant.public_key, "client_id": "a", "text": "hi"})
    limited = _post("/api/v1/public/chat/messages", {"key": tenant.public_key, "client_id": "b", "text": "hi"})
    assert ok.status_code == 200
    assert (limited.status_code, limited.json()["code"]) == (429, "rate_limited")


def test_preflight_allows_post_with_json(tenant: Tenant) -> None:
    response = Client().options("/api/v1/public/chat/messages", HTTP_ORIGIN=ORIGIN)
    assert response.status_code == 204
    assert response["Access-Control-Allow-Methods"] == "POST, OPTIONS"


@pytest.mark.parametrize("path", ["/api/v1/public/chat/messages", "/api/v1/public/chat/messages/stream"])
@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE", "TRACE"])
def test_a_method_other_than_post_is_not_allowed(tenant: Tenant, path: str, method: str) -> None:
    body = json.dumps({"key": tenant.public_key, "client_id": "m-1", "text": "Hi"})
    response = Client().generic(method, path, body, content_type="application/json", headers={"origin": ORIGIN})
    assert (response.status_code, response["Allow"]) == (405, "POST, OPTIONS")
    assert response["Access-Control-Allow-Origin"] == ORIGIN
    assert response.json() == {"type": "error", "code": "bad_request", "message": USE_POST}
    assert not Conversation.objects.exists()


@pytest.mark.asyncio
async def test_sse_stream_sends_protocol_frames(tenant: Tenant) -> None:
    response = await AsyncClient().post(
        "/api/v1/public/chat/messages/stream",
        data=json.dumps({"key": tenant.public_key, "client_id": "s-1", "text": "Hi"}),
        content_type="application/json",
        headers={"Origin": ORIGIN},
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "text/event-stream"
    assert response["Cache-Control"] == "no-cache"
    body = b"".join([chunk async for chunk in response.streaming_content]).decode()  # type: ignore[attr-defined]
    blocks = body.strip().split("\n\n")
    events = [block.split("\n")[0].removeprefix("event: ") for block in blocks]
    assert events[0] == "message.ack" and events[1] == "message.start" and events[-1] == "message.end"
    assert "message.delta" in events
    end = json.loads(blocks[-1].split("data: ", 1)[1])
    assert end["text"]


def test_post_message_links_a_verified_customer_and_refuses_forged_identities(tenant: Tenant) -> None:
    # given a tenant with identity verification and one good, one forged token
    secret = identity_secret_rotate(tenant=tenant)
    good = sign_identity(secret=secret, external_id="api-1", name="Ann Lee", lifetime=timedelta(hours=1))
    forged = sign_identity(secret="forged-secret-" * 3, external_id="api-1", lifetime=timedelta(hours=1))
    body = {"key": tenant.public_key, "client_id": "i-1", "text": "Hello?"}
    # when
    refused = _post("/api/v1/public/chat/messages", {**body, "identity_token": forged})
    accepted = _post("/api/v1/public/chat/messages", {**body, "identity_token": good})
    # then
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    assert accepted.status_code == 200
    conversation = Conversation.objects.select_related("end_user").get(pk=accepted.json()["conversation_id"])
    assert conversation.end_user is not None and conversation.end_user.external_id == "api-1"
    assert Conversation.objects.filter(end_user__isnull=False).count() == 1


def _cut_off_question(tenant: Tenant, client_id: str) -> tuple[str, Message]:
    """A question whose first request was cut off before a reply row existed: stored, never answered."""
    opened = services.conversation_open(tenant=tenant, channel="api")
    question = services.message_receive(
        tenant=tenant, conversation=opened.conversation, client_id=client_id, text="Hello?"
    ).message
    return opened.resume_token, question


def test_a_resend_of_an_answer_cut_short_says_it_was_interrupted(tenant: Tenant) -> None:
    # given a question whose answer was cut short when its first request's connection closed
    resume_token, question = _cut_off_question(tenant, "h-3")
    reply = services.assistant_message_start(tenant=tenant, conversation=question.conversation, reply_to=question)
    partial = services.AssistantOutcome(text="Refunds take 30 d", status=MessageStatus.INTERRUPTED, sources=[])
    services.assistant_message_finish(tenant=tenant, message_id=reply.pk, outcome=partial)
    # when it is resent
    body = {"key": tenant.public_key, "client_id": "h-3", "text": "Hello?", "resume_token": resume_token}
    answer = _post("/api/v1/public/chat/messages", body).json()["answer"]
    # then the partial text comes back marked as such, and a whole answer is marked complete
    assert (answer["message_id"], answer["text"], answer["status"]) == (reply.pk, "Refunds take 30 d", "interrupted")
    fresh = _post("/api/v1/public/chat/messages", {**body, "client_id": "h-4"}).json()["answer"]
    assert fresh["status"] == "complete"


def test_post_message_answers_a_resend_of_a_question_never_answered(tenant: Tenant) -> None:
    # given
    resume_token, question = _cut_off_question(tenant, "h-2")
    # when
    response = _post(
        "/api/v1/public/chat/messages",
        {"key": tenant.public_key, "client_id": "h-2", "text": "Hello?", "resume_token": resume_token},
    )
    # then
    body = response.json()
    assert response.status_code == 200
    assert body["message_id"] == question.pk
    assert body["answer"]["type"] == "message.end" and body["answer"]["text"]
    reply = Message.objects.get(reply_to=question)
    assert body["answer"]["message_id"] == reply.pk
    assert Message.objects.filter(conversation=question.conversation).count() == 2


@pytest.mark.asyncio
async def test_sse_stream_answers_a_resend_of_a_question_never_answered(tenant: Tenant) -> None:
    # given
    resume_token, question = await sync_to_async(_cut_off_question)(tenant, "s-2")
    # when
    response = await AsyncClient().post(
        "/api/v1/public/chat/messages/stream",
        data=json.dumps({"key": tenant.public_key, "client_id": "s-2", "text": "Hello?", "resume_token": resume_token}),
        content_type="application/json",
        headers={"Origin": ORIGIN},
    )
    body = b"".join([chunk async for chunk in response.streaming_content]).decode()  # type: ignore[attr-defined]
    # then
    blocks = body.strip().split("\n\n")
    events = [block.split("\n")[0].removeprefix("event: ") for block in blocks]
    assert events[0] == "message.ack" and events[1] == "message.start" and events[-1] == "message.end"
    assert json.loads(blocks[0].split("data: ", 1)[1])["message_id"] == question.pk
    assert json.loads(blocks[-1].split("data: ", 1)[1])["text"]


def test_post_message_resend_in_a_live_handoff_is_left_to_the_team(tenant: Tenant) -> None:
    # given a question never answered, and a person has the conversation now
    resume_token, question = _cut_off_question(tenant, "h-3")
    EscalationFactory(conversation=question.conversation, mode=Mode.LIVE)
    # when
    response = _post(
        "/api/v1/public/chat/messages",
        {"key": tenant.public_key, "client_id": "h-3", "text": "Hello?", "resume_token": resume_token},
    )
    # then
    assert response.status_code == 202
    assert response.json()["answer"] is None and response.json()["message_id"] == question.pk
    assert not Message.objects.filter(reply_to=question).exists()


def test_a_resend_while_the_first_request_prepares_its_answer_is_not_answered_twice(
    tenant: Tenant, first_turn_held: HeldTurn
) -> None:
    # given a first request whose answer is under way but has no reply row yet (it is retrieving)
    opened = services.conversation_open(tenant=tenant, channel="api")
    body = {"key": tenant.public_key, "client_id": "h-5", "text": "Tell me about memberships"}
    body["resume_token"] = opened.resume_token
    provider = ScriptedProvider(name="local")
    with override_providers({"local": provider}), ThreadPoolExecutor(max_workers=1) as other_connection:
        first = other_connection.submit(_post, "/api/v1/public/chat/messages", body)
        assert first_turn_held.entered.wait(30)
        # when the same message arrives again meanwhile (another connection, maybe another server)
        resent = _post("/api/v1/public/chat/messages", body)
        first_turn_held.release.set()
        answered = first.result(timeout=60)
    # then the resend is told the message is being answered, and one answer is generated and paid for
    assert resent.status_code == 202 and resent.json()["answer"] is None
    assert answered.status_code == 200 and answered.json()["answer"]["status"] == "complete"
    assert resent.json()["message_id"] == answered.json()["message_id"]
    assert len(provider.requests) == 1
    replies = Message.objects.filter(conversation=opened.conversation, role=MessageRole.ASSISTANT)
    assert list(replies.values_list("pk", flat=True)) == [answered.json()["answer"]["message_id"]]
    assert CostEvent.objects.filter(tenant=tenant).count() == 1


def test_the_same_client_id_in_another_tenant_is_answered_while_the_first_is(
    tenant: Tenant, other_tenant: Tenant, first_turn_held: HeldTurn
) -> None:
    # given tenant's question held before its reply row exists
    body = {"client_id": "h-6", "text": "Tell me about memberships"}
    provider = ScriptedProvider(name="local")
    with override_providers({"local": provider}), ThreadPoolExecutor(max_workers=1) as other_connection:
        first = other_connection.submit(_post, "/api/v1/public/chat/messages", {**body, "key": tenant.public_key})
        assert first_turn_held.entered.wait(30)
        # when another tenant's customer sends the same client_id meanwhile
        theirs = _post(
            "/api/v1/public/chat/messages",
            {**body, "key": other_tenant.public_key},
            origin="https://bravo.example.com",
        )
        first_turn_held.release.set()
        ours = first.result(timeout=60)
    # then each is answered, in its own tenant
    assert theirs.status_code == 200 and theirs.json()["answer"]["status"] == "complete"
    assert ours.status_code == 200 and ours.json()["answer"]["status"] == "complete"
    assert len(provider.requests) == 2
    assert Message.objects.get(pk=theirs.json()["answer"]["message_id"]).tenant_id == other_tenant.pk
    assert Message.objects.get(pk=ours.json()["answer"]["message_id"]).tenant_id == tenant.pk


def test_a_resend_of_a_question_whose_server_died_mid_answer_says_it_was_interrupted(tenant: Tenant) -> None:
    # given a question whose reply row a server left streaming when it died
    resume_token, question = _cut_off_question(tenant, "h-7")
    reply = reply_left_streaming(tenant, question, age=reply_abandoned_after() + timedelta(seconds=1))
    body = {"key": tenant.public_key, "client_id": "h-7", "text": "Hello?", "resume_token": resume_token}
    provider = ScriptedProvider(name="local")
    with override_providers({"local": provider}):
        # when it is resent
        response = _post("/api/v1/public/chat/messages", body)
    # then the cut-short answer comes back marked interrupted (not 202 for ever), and nothing is generated
    assert response.status_code == 200
    answer = response.json()["answer"]
    assert (answer["message_id"], answer["status"], answer["text"]) == (reply.pk, "interrupted", "")
    assert provider.requests == []
    assert list(Message.objects.filter(reply_to=question).values_list("pk", "status")) == [
        (reply.pk, MessageStatus.INTERRUPTED)
    ]


@pytest.mark.asyncio
async def test_sse_resend_of_a_question_whose_server_died_mid_answer_ends_interrupted(tenant: Tenant) -> None:
    # given a question whose reply row a server left streaming when it died
    resume_token, question = await sync_to_async(_cut_off_question)(tenant, "s-7")
    reply = await sync_to_async(reply_left_streaming)(tenant, question, age=2 * reply_abandoned_after())
    # when it is resent on the stream
    response = await AsyncClient().post(
        "/api/v1/public/chat/messages/stream",
        data=json.dumps({"key": tenant.public_key, "client_id": "s-7", "text": "Hello?", "resume_token": resume_token}),
        content_type="application/json",
        headers={"Origin": ORIGIN},
    )
    body = b"".join([chunk async for chunk in response.streaming_content]).decode()  # type: ignore[attr-defined]
    # then the stream carries the ack and the interrupted end, and no answer of its own
    blocks = body.strip().split("\n\n")
    assert [block.split("\n")[0].removeprefix("event: ") for block in blocks] == ["message.ack", "message.end"]
    end = json.loads(blocks[-1].split("data: ", 1)[1])
    assert (end["message_id"], end["status"]) == (reply.pk, "interrupted")


def test_a_resend_while_the_answer_streams_within_the_timeout_still_waits(tenant: Tenant) -> None:
    resume_token, question = _cut_off_question(tenant, "h-8")
    reply = reply_left_streaming(tenant, question, age=timedelta(seconds=5))
    body = {"key": tenant.public_key, "client_id": "h-8", "text": "Hello?", "resume_token": resume_token}
    response = _post("/api/v1/public/chat/messages", body)
    assert response.status_code == 202 and response.json()["answer"] is None
    assert Message.objects.get(pk=reply.pk).status == MessageStatus.STREAMING


def test_another_tenants_key_cannot_finish_a_dead_reply(tenant: Tenant, other_tenant: Tenant) -> None:
    # given tenant's question whose reply a dead server left streaming
    resume_token, question = _cut_off_question(tenant, "h-9")
    reply = reply_left_streaming(tenant, question, age=2 * reply_abandoned_after())
    # when another tenant's widget sends its resume token and client_id
    body = {"key": other_tenant.public_key, "client_id": "h-9", "text": "Hello?", "resume_token": resume_token}
    response = _post("/api/v1/public/chat/messages", body, origin="https://bravo.example.com")
    # then that is a new conversation of the other tenant, and tenant's reply is untouched
    assert response.status_code == 200
    assert response.json()["conversation_id"] != question.conversation_id
    assert response.json()["answer"]["message_id"] != reply.pk
    assert Message.objects.get(pk=reply.pk).status == MessageStatus.STREAMING


def test_in_a_live_handoff_a_dead_reply_is_finished_and_nothing_is_generated(tenant: Tenant) -> None:
    # given a reply a dead server left streaming, and a person has the conversation since
    resume_token, question = _cut_off_question(tenant, "h-10")
    reply = reply_left_streaming(tenant, question, age=2 * reply_abandoned_after())
    EscalationFactory(conversation=question.conversation, mode=Mode.LIVE)
    provider = ScriptedProvider(name="local")
    # when the customer resends it, then writes to the team
    with override_providers({"local": provider}):
        resent = _post(
            "/api/v1/public/chat/messages",
            {"key": tenant.public_key, "client_id": "h-10", "text": "Hello?", "resume_token": resume_token},
        )
        to_team = _post(
            "/api/v1/public/chat/messages",
            {"key": tenant.public_key, "client_id": "h-11", "text": "Anyone?", "resume_token": resume_token},
        )
    # then the resend gets the cut-short answer, the new message is left to the team, and no model ran
    assert resent.status_code == 200
    assert (resent.json()["answer"]["message_id"], resent.json()["answer"]["status"]) == (reply.pk, "interrupted")
    assert to_team.status_code == 202 and to_team.json()["answer"] is None
    assert not Message.objects.filter(reply_to_id=to_team.json()["message_id"]).exists()
    assert provider.requests == []
    assert Message.objects.filter(reply_to=question).count() == 1
