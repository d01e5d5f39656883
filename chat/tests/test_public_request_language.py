"""The public endpoints' errors about the request itself, most found before its tenant (and so the
conversation's language) is known: said in the language of the request's ``Accept-Language`` header,
unless the body names a conversation of the key's tenant whose customer has written; ``code``, status
and ``field`` are the protocol's whatever the language."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from chat import services
from chat.public_language import accepted_language
from chat.tests.conftest import conversation_written_in
from chat.tests.urls_under_test import CONFIRM, ESCALATE, MESSAGES, STREAM
from supportai.daphne_setup import body_limit
from supportai.models import Tenant

pytestmark = pytest.mark.django_db(transaction=True)  # the views run their database work on the pool

ORIGIN = "https://alpha.example.com"
FOREIGN_ORIGIN = {
    "de": "Diese Website darf diesen Chat nicht verwenden.",
    "ja": "このウェブサイトではこのチャットを使用できません。",
    "en": "This website may not use this chat.",
}


def post(path: str, body: str, accept_language: str, *, origin: str = ORIGIN, **meta: Any) -> Any:
    return Client().post(
        path,
        data=body,
        content_type="application/json",
        HTTP_ORIGIN=origin,
        HTTP_ACCEPT_LANGUAGE=accept_language,
        **meta,
    )


def key_body(tenant: Tenant, **fields: Any) -> str:
    return json.dumps({"key": tenant.public_key, "client_id": "c-1", "text": "Hallo", **fields})


# (path, request, status, code, {language: message, field?})
REQUEST_ERRORS = [
    pytest.param(
        MESSAGES,
        lambda tenant, language: post(MESSAGES, "{not json", language),
        400,
        "bad_request",
        {
            "de": "Der Anfragetext muss ein JSON-Objekt sein, gesendet als UTF-8.",
            "ja": "本文はUTF-8で送信されたJSONオブジェクトである必要があります。",
        },
        id="not-json",
    ),
    pytest.param(
        STREAM,
        lambda tenant, language: post(STREAM, json.dumps({"key": "pk_nobody", "text": "x"}), language),
        404,
        "not_found",
        {"de": "Unbekannter Widget-Schlüssel.", "ja": "不明なウィジェットキーです。"},
        id="unknown-key",
    ),
    pytest.param(
        ESCALATE,
        lambda tenant, language: post(ESCALATE, key_body(tenant), language, origin="https://evil.example.net"),
        403,
        "forbidden",
        {"de": FOREIGN_ORIGIN["de"], "ja": FOREIGN_ORIGIN["ja"]},
        id="foreign-origin",
    ),
    pytest.param(
        CONFIRM,
        lambda tenant, language: post(CONFIRM, key_body(tenant, text="x" * 17_000), language),
        413,
        "too_long",
        {
            "de": "Der Anfragetext ist auf 16384 Bytes UTF-8 begrenzt, wie ein Websocket-Frame.",
            "ja": "リクエスト本文は、WebSocketのフレームと同じくUTF-8で16384バイトまでです。",
        },
        id="body-too-long",
    ),
    pytest.param(
        MESSAGES,
        lambda tenant, language: post(MESSAGES, key_body(tenant), language, CONTENT_LENGTH="12abc"),
        400,
        "bad_request",
        {
            "de": "Der Content-Length-Header muss eine Anzahl von Bytes sein.",
            "ja": "Content-Lengthヘッダーはバイト数である必要があります。",
        },
        id="bad-content-length",
    ),
    pytest.param(
        MESSAGES,
        lambda tenant, language: post(MESSAGES, json.dumps({"key": 7}), language),
        400,
        "bad_request",
        {"de": "'key' muss ein Text sein.", "ja": "'key' は文字列で指定してください。", "field": "key"},
        id="key-not-a-string",
    ),
    pytest.param(
        STREAM,
        lambda tenant, language: Client().get(STREAM, HTTP_ACCEPT_LANGUAGE=language),
        405,
        "bad_request",
        {"de": "Bitte verwenden Sie POST.", "ja": "POSTを使用してください。"},
        id="use-post",
    ),
]


@pytest.mark.parametrize("language", ["de", "ja"])
@pytest.mark.parametrize(("path", "send", "status", "code", "messages"), REQUEST_ERRORS)
def test_a_request_refused_before_its_conversation_is_known_is_answered_in_its_accept_language(
    tenant: Tenant, language: str, path: str, send: Any, status: int, code: str, messages: dict[str, str]
) -> None:
    # when a request the endpoint refuses before it knows the conversation asks for German (or Japanese)
    response = send(tenant, f"{language}-{language.upper()},en;q=0.5")
    # then its error is in that language, its code and status unchanged (a field error names its field)
    expected = {"type": "error", "code": code, "message": messages[language]}
    if "field" in messages:
        expected["field"] = messages["field"]
    assert (response.status_code, response.json()) == (status, expected)


def test_quality_values_choose_the_language() -> None:
    assert accepted_language("en;q=0.5, fr-CA;q=0.9, de;q=0.8") == "fr"
    assert accepted_language("ja;q=0, ko;q=0.2, en;q=0.1") == "ko"  # q=0: not acceptable
    assert accepted_language("de;q=abc, it;q=1.5, nl;q=0.3") == "nl"  # a malformed q drops its language
    assert accepted_language("pt-BR, en") == "pt"  # the region falls back to the base language
    assert accepted_language("zh-TW, zh;q=0.9") == "zh-Hant"  # Taiwan, Hong Kong, Macau write traditional
    assert accepted_language("zh-Hans-CN") == "zh" and accepted_language("ZH-hant") == "zh-Hant"
    assert accepted_language("ar-EG, en;q=0.5") == "ar" and accepted_language("ar") == "ar"


@pytest.mark.parametrize("header", ["", "*", "sw, tlh;q=0.9", "x" * 600, ";;,,q=1", "de;q=0"])
def test_an_unknown_or_unreadable_accept_language_is_english(header: str) -> None:
    assert accepted_language(header) == "en"


def test_an_unknown_language_answers_in_english(tenant: Tenant) -> None:
    # when a request without a known language of ours sends a foreign Origin
    response = post(ESCALATE, key_body(tenant), "sw-KE, tlh;q=0.8", origin="https://evil.example.net")
    # then it is refused in English
    assert (response.status_code, response.json()["message"]) == (403, FOREIGN_ORIGIN["en"])


def test_a_conversation_whose_language_is_known_outranks_the_header(tenant: Tenant) -> None:
    # given a conversation whose customer wrote in German
    opened = conversation_written_in(tenant, "Wie kann ich meine Buchung stornieren?")
    # when its resume token comes from a foreign Origin that asks for Japanese
    body = key_body(tenant, resume_token=opened.resume_token)
    response = post(MESSAGES, body, "ja", origin="https://evil.example.net")
    # then the refusal is in the conversation's language
    assert (response.status_code, response.json()["message"]) == (403, FOREIGN_ORIGIN["de"])


def test_a_conversation_without_a_customer_message_leaves_the_header_to_choose(tenant: Tenant) -> None:
    # given a conversation opened but not yet written in
    opened = services.conversation_open(tenant=tenant, origin=ORIGIN)
    # when its resume token comes from a foreign Origin that asks for Japanese
    body = key_body(tenant, resume_token=opened.resume_token)
    response = post(MESSAGES, body, "ja", origin="https://evil.example.net")
    # then the refusal is Japanese
    assert (response.status_code, response.json()["message"]) == (403, FOREIGN_ORIGIN["ja"])


def test_daphne_refuses_a_declared_oversize_body_in_the_accept_language() -> None:
    # when daphne refuses a public chat body declared over the frame's limit, for a German browser
    answer = body_limit(b"/api/v1/public/chat/messages", accept_language="de-AT,de;q=0.9").answer
    # then its too_long error is German, as the view's would be
    assert json.loads(answer.body) == {
        "type": "error",
        "code": "too_long",
        "message": "Der Anfragetext ist auf 16384 Bytes UTF-8 begrenzt, wie ein Websocket-Frame.",
    }
    assert json.loads(body_limit(b"/api/v1/public/chat/escalate").answer.body)["message"].startswith(
        "The request body is limited to 16,384 bytes"
    )


# (path, body without resume_token, field, {language: message})
FIELD_ERRORS = [
    pytest.param(
        MESSAGES,
        {"client_id": "c-1"},
        "text",
        {"de": "'text' ist erforderlich.", "ja": "'text' は必須です。"},
        id="messages-text-required",
    ),
    pytest.param(
        STREAM,
        {"client_id": 5, "text": "Hallo"},
        "client_id",
        {"de": "'client_id' muss ein Text sein.", "ja": "'client_id' は文字列で指定してください。"},
        id="stream-client-id-not-a-string",
    ),
    pytest.param(
        ESCALATE,
        {"phone": "call me"},
        "phone",
        {
            "de": "'phone' muss eine Telefonnummer sein: 7 bis 15 Ziffern, optional mit führendem +.",
            "ja": "'phone' は電話番号で指定してください（7〜15桁の数字、先頭に + も使えます）。",  # noqa: RUF001 (Japanese punctuation)
        },
        id="escalate-bad-phone",
    ),
    pytest.param(
        CONFIRM,
        {},
        "proposal_id",
        {"de": "'proposal_id' ist erforderlich.", "ja": "'proposal_id' は必須です。"},
        id="confirm-proposal-id-required",
    ),
]


@pytest.mark.parametrize("language", ["de", "ja"])
@pytest.mark.parametrize(("path", "fields", "field", "messages"), FIELD_ERRORS)
def test_a_field_error_without_a_conversation_is_answered_in_the_accept_language(
    tenant: Tenant, language: str, path: str, fields: dict[str, Any], field: str, messages: dict[str, str]
) -> None:
    # when a body of a known key, naming no conversation, has a wrong field and asks for German (or Japanese)
    response = post(path, json.dumps({"key": tenant.public_key, **fields}), f"{language},en;q=0.5")
    # then the field's error is in that language, its code, status and field unchanged
    assert response.status_code == 400
    assert response.json() == {"type": "error", "code": "bad_request", "message": messages[language], "field": field}


def test_a_field_error_in_a_written_conversation_is_in_its_language_whatever_the_header(tenant: Tenant) -> None:
    # given a conversation whose customer wrote in German
    opened = conversation_written_in(tenant, "Wie kann ich meine Buchung stornieren?")
    # when a message without text resumes it, asking for Japanese
    body = json.dumps({"key": tenant.public_key, "client_id": "c-2", "resume_token": opened.resume_token})
    response = post(MESSAGES, body, "ja")
    # then the error is in the conversation's language
    assert response.json()["message"] == "'text' ist erforderlich."
