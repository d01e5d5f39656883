"""The customer-facing errors of the public endpoints that the chat did not write itself: too many new
chats, the proposal endpoints' and /escalate's, the handoff's, the booking proposals' and the identity
token's. Said as every other error: in the conversation's language when its customer has written, else
as the request's Accept-Language asks, else English; on the socket, once the customer has written, in
their language. ``code``, status and ``field`` are the protocol's whatever the language."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.test import Client

from chat.tests.conftest import Connect, conversation_written_in
from chat.tests.urls_under_test import CONFIRM, ESCALATE, MESSAGES, REJECT
from supportai.identity import identity_secret_rotate, sign_identity
from supportai.models import Tenant

pytestmark = pytest.mark.django_db(transaction=True)  # the views run their database work on the pool

ORIGIN = "https://alpha.example.com"
WRITTEN = {"de": "Wie kann ich meine Buchung stornieren?", "ja": "予約をキャンセルしたいです"}
HANDOFF_TOO_OFTEN = {
    "de": "Sie haben in der letzten Stunde mehrmals nach einem Menschen gefragt. Unser Team hat Ihre Anfrage "
    "bereits; bitte warten Sie auf eine Antwort oder versuchen Sie es später erneut.",
    "ja": "この1時間に何度か担当者への対応をご依頼いただいています。ご依頼はすでにチームに届いていますので、"
    "連絡をお待ちいただくか、後ほどもう一度お試しください。",
}
HOUR = timedelta(hours=1)
IDENTITY_INVALID = {
    "de": "Das Identitätstoken konnte nicht geprüft werden.",
    "ja": "本人確認トークンを検証できませんでした。",
}


def post(path: str, body: dict[str, Any], accept_language: str = "") -> tuple[int, dict[str, Any]]:
    response = Client().post(
        path,
        json.dumps(body),
        content_type="application/json",
        HTTP_ORIGIN=ORIGIN,
        HTTP_ACCEPT_LANGUAGE=accept_language,
    )
    return response.status_code, response.json()


def error(code: str, message: str) -> dict[str, Any]:
    return {"type": "error", "code": code, "message": message}


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("de", "Zu viele neue Chats aus Ihrem Netzwerk; bitte warten Sie eine Minute."),
        ("ja", "お使いのネットワークからの新しいチャットが多すぎます。1分ほどお待ちください。"),
    ],
)
def test_too_many_new_chats_is_said_in_the_language_of_the_first_message(
    tenant: Tenant, settings: Any, language: str, message: str
) -> None:
    # given a network that may open no more conversations this minute
    settings.CHAT_CONVERSATIONS_PER_MINUTE_PER_IP = 0
    # when a customer sends a first message in German (or Japanese), their browser asking for English
    body = {"key": tenant.public_key, "client_id": "f-1", "text": WRITTEN[language]}
    # then the refusal is in the language of that message, as every error after the message is read
    assert post(MESSAGES, body, "en") == (429, error("rate_limited", message))


@pytest.mark.parametrize("language", ["de", "ja"])
def test_an_identity_token_refused_is_said_in_the_language_of_the_message(tenant: Tenant, language: str) -> None:
    # given a tenant that verifies identities, and a token it did not sign
    identity_secret_rotate(tenant=tenant)
    body = {"key": tenant.public_key, "client_id": "i-1", "text": WRITTEN[language], "identity_token": "not.a.jwt"}
    # when a German (or Japanese) message comes with it
    # then it is refused in that language
    assert post(MESSAGES, body) == (403, error("forbidden", IDENTITY_INVALID[language]))


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("de", "Es gibt kein laufendes Gespräch, das übergeben werden kann; bitte beginnen Sie zuerst einen Chat."),
        ("ja", "引き継げる進行中の会話がありません。先にチャットを開始してください。"),
    ],
)
def test_escalate_without_a_conversation_is_answered_in_the_accept_language(
    tenant: Tenant, language: str, message: str
) -> None:
    # when a browser asking for German (or Japanese) asks for a person with a resume token of no conversation
    body = {"key": tenant.public_key, "resume_token": "rt_nothing", "reason": "help"}
    # then there is no conversation to hand over, said in that language
    assert post(ESCALATE, body, f"{language};q=0.9, en;q=0.1") == (404, error("not_found", message))


@pytest.mark.parametrize("language", ["de", "ja"])
def test_escalate_too_often_is_said_in_the_conversations_language(tenant: Tenant, settings: Any, language: str) -> None:
    # given a German (or Japanese) conversation, from a network that may ask for no more people this hour
    settings.ESCALATIONS_PER_HOUR = 0
    opened = conversation_written_in(tenant, WRITTEN[language])
    # when it asks for a person, its browser asking for English
    body = {"key": tenant.public_key, "resume_token": opened.resume_token, "reason": "help"}
    # then the handoff's refusal is in the conversation's language
    assert post(ESCALATE, body, "en") == (429, error("rate_limited", HANDOFF_TOO_OFTEN[language]))


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("de", "Zu diesem 'resume_token' gibt es kein Gespräch; bitte beginnen Sie zuerst einen Chat."),
        ("ja", "この 'resume_token' に対応する会話はありません。先にチャットを開始してください。"),
    ],
)
@pytest.mark.parametrize("path", [CONFIRM, REJECT])
def test_a_proposal_decision_without_a_conversation_is_answered_in_the_accept_language(
    tenant: Tenant, path: str, language: str, message: str
) -> None:
    # when a browser asking for German (or Japanese) decides a proposal with a resume token of no conversation
    body = {"key": tenant.public_key, "resume_token": "rt_nothing", "proposal_id": str(uuid.uuid4())}
    # then there is no conversation, said in that language
    assert post(path, body, language) == (404, error("not_found", message))


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("de", "Diesen Vorschlag gibt es nicht, oder er wurde bereits ersetzt."),
        ("ja", "その提案は存在しないか、すでに新しい提案に置き換えられています。"),
    ],
)
def test_an_unknown_proposal_is_said_in_the_conversations_language(tenant: Tenant, language: str, message: str) -> None:
    # given a German (or Japanese) conversation
    opened = conversation_written_in(tenant, WRITTEN[language])
    # when it confirms a proposal it was never made, its browser asking for English
    body = {"key": tenant.public_key, "resume_token": opened.resume_token, "proposal_id": str(uuid.uuid4())}
    # then the proposal is not found, said in the conversation's language
    assert post(CONFIRM, body, "en") == (404, error("not_found", message))


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("de", "Zu viele Anfragen aus Ihrem Netzwerk; bitte warten Sie eine Minute."),
        ("ja", "お使いのネットワークからのリクエストが多すぎます。1分ほどお待ちください。"),
    ],
)
def test_a_proposal_decision_rate_limited_is_said_in_the_conversations_language(
    tenant: Tenant, settings: Any, language: str, message: str
) -> None:
    # given a German (or Japanese) conversation, from a network that may send no more this minute
    settings.CHAT_MESSAGES_PER_MINUTE_PER_IP = 0
    opened = conversation_written_in(tenant, WRITTEN[language])
    # when it rejects a proposal, its browser asking for English
    body = {"key": tenant.public_key, "resume_token": opened.resume_token, "proposal_id": str(uuid.uuid4())}
    # then the refusal is in the conversation's language
    assert post(REJECT, body, "en") == (429, error("rate_limited", message))


@pytest.mark.asyncio
@pytest.mark.parametrize("language", ["de", "ja"])
async def test_the_socket_says_identity_and_handoff_errors_in_the_customers_language(
    connect: Connect, tenant: Tenant, settings: Any, language: str
) -> None:
    # given a customer who wrote in German (or Japanese), on a tenant that verifies identities
    settings.ESCALATIONS_PER_HOUR = 0
    await sync_to_async(identity_secret_rotate)(tenant=tenant)
    client = await connect(tenant)
    await client.ask(WRITTEN[language], "w-1")
    # when they send a token it did not sign, then ask for a person once too often
    await client.send({"type": "identify", "token": "not.a.jwt"})
    identity = await client.receive()
    await client.send({"type": "escalate", "reason": "help"})
    handoff = await client.receive()
    await client.disconnect()
    # then both errors are in their language
    assert identity == error("forbidden", IDENTITY_INVALID[language])
    assert handoff == error("rate_limited", HANDOFF_TOO_OFTEN[language])


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("de", "Dieses Gespräch gehört einem anderen angemeldeten Kunden; bitte beginnen Sie ein neues Gespräch."),
        ("ja", "この会話はサインイン済みの別のお客様のものです。新しい会話を開始してください。"),
    ],
)
async def test_the_socket_says_an_identity_conflict_in_the_customers_language(
    connect: Connect, tenant: Tenant, language: str, message: str
) -> None:
    # given a German (or Japanese) conversation that belongs to Ann
    secret = await sync_to_async(identity_secret_rotate)(tenant=tenant)
    client = await connect(tenant)
    await client.ask(WRITTEN[language], "w-1")
    await client.send({"type": "identify", "token": sign_identity(secret=secret, external_id="ann", lifetime=HOUR)})
    assert (await client.receive())["type"] == "identify.ack"
    # when Bob's token arrives on it
    await client.send({"type": "identify", "token": sign_identity(secret=secret, external_id="bob", lifetime=HOUR)})
    conflict = await client.receive()
    await client.disconnect()
    # then the refusal the widget acts on is in the customer's language
    assert conflict == {**error("forbidden", message), "reason": "identity_conflict"}
