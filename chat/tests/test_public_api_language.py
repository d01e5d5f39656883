"""The HTTP fallbacks' errors in the customer's language, chosen as the socket chooses it
(test_consumer_errors.py): the customer's latest message in the conversation, and from a message
sent, that message's; the error codes, statuses and fields are the protocol's whatever the language."""

from __future__ import annotations

import json
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.db import OperationalError
from django.test import AsyncClient, Client

from chat import services
from chat.models import Conversation, Message
from chat.tests.conftest import conversation_written_in, refusal
from chat.tests.db_failures import Fail
from chat.tests.urls_under_test import CONFIRM, ESCALATE, MESSAGES, STREAM
from escalations.models import Escalation
from supportai.models import Tenant

pytestmark = pytest.mark.django_db(transaction=True)  # the views run their database work on the pool

ORIGIN = "https://alpha.example.com"
OTHER_ORIGIN = "https://bravo.example.com"  # other_tenant's
WRITTEN = {"de": "Wie kann ich meine Buchung stornieren?", "en": "How do I cancel my booking?"}

# (endpoint, body fields besides key and resume_token, status, field, {language: message})
REFUSED_BODIES = [
    pytest.param(
        MESSAGES,
        {"client_id": "r-1"},
        400,
        "text",
        {"de": "'text' ist erforderlich.", "en": "'text' is required."},
        id="required",
    ),
    pytest.param(
        STREAM,
        {"client_id": "r-1", "text": "x" * 2_001},
        413,
        "text",
        {"de": "'text' ist länger als 2000 Zeichen.", "en": "'text' is longer than 2000 characters."},
        id="too-long",
    ),
    pytest.param(
        MESSAGES,
        {"client_id": 7, "text": "Und die Gebühr?"},
        400,
        "client_id",
        {"de": "'client_id' muss ein Text sein.", "en": "'client_id' must be a string."},
        id="not-a-string",
    ),
    pytest.param(
        ESCALATE,
        {"reason": "help", "phone": "abc"},
        400,
        "phone",
        {
            "de": "'phone' muss eine Telefonnummer sein: 7 bis 15 Ziffern, optional mit führendem +.",
            "en": "'phone' must be a phone number: 7 to 15 digits, with an optional leading +.",
        },
        id="bad-phone",
    ),
    pytest.param(
        ESCALATE,
        {"reason": "help", "email": "keine-adresse"},
        400,
        "email",
        {"de": "Diese E-Mail-Adresse scheint nicht zu stimmen.", "en": "That email address doesn't look right."},
        id="bad-email",
    ),
    pytest.param(
        CONFIRM,
        {},
        400,
        "proposal_id",
        {"de": "'proposal_id' ist erforderlich.", "en": "'proposal_id' is required."},
        id="proposal-id-required",
    ),
]


def post(path: str, body: dict[str, Any], origin: str = ORIGIN) -> Any:
    return Client().post(path, data=json.dumps(body), content_type="application/json", HTTP_ORIGIN=origin)


@pytest.mark.parametrize("language", ["de", "en"])
@pytest.mark.parametrize(("path", "fields", "status", "field", "messages"), REFUSED_BODIES)
def test_a_refused_body_is_answered_in_the_language_the_customer_wrote_in(
    tenant: Tenant,
    language: str,
    path: str,
    fields: dict[str, Any],
    status: int,
    field: str,
    messages: dict[str, str],
) -> None:
    # given a conversation whose customer wrote in German (or English)
    opened = conversation_written_in(tenant, WRITTEN[language])
    # when its client sends a body the socket would refuse as a frame
    response = post(path, {"key": tenant.public_key, "resume_token": opened.resume_token, **fields})
    # then the error is in their language, its code, status and field the protocol's
    code = "too_long" if status == 413 else "bad_request"
    assert (response.status_code, response.json()) == (
        status,
        {"type": "error", "code": code, "message": messages[language], "field": field},
    )
    assert Message.objects.count() == 1 and not Escalation.objects.exists()


@pytest.mark.asyncio
@pytest.mark.parametrize("path", [MESSAGES, STREAM])
async def test_a_message_sent_is_refused_in_its_own_language(tenant: Tenant, path: str) -> None:
    # given a conversation whose customer wrote in English
    opened = await sync_to_async(conversation_written_in)(tenant, WRITTEN["en"])
    # when they send a German message under the client_id of the English one
    body = {"key": tenant.public_key, "resume_token": opened.resume_token, "client_id": "written-1"}
    response = await AsyncClient(headers={"Origin": ORIGIN}).post(
        path, {**body, "text": "Und was kostet die Stornierung?"}, "application/json"
    )
    # then the error is in the language of the message sent, as on the socket
    error = await refusal(response, stream=path == STREAM)
    assert (error["code"], error["message"], error["field"]) == (
        "bad_request",
        "'client_id' wurde in diesem Gespräch schon für eine andere Nachricht verwendet.",
        "client_id",
    )
    assert await Message.objects.acount() == 1


def test_a_first_message_is_refused_in_its_own_language(tenant: Tenant, settings: Any) -> None:
    # given a network that may send no more messages this minute
    settings.CHAT_MESSAGES_PER_MINUTE_PER_IP = 0
    # when a customer sends their first message, in German, without a conversation
    response = post(MESSAGES, {"key": tenant.public_key, "client_id": "f-1", "text": WRITTEN["de"]})
    # then the refusal is German, as the socket's would be
    assert (response.status_code, response.json()) == (
        429,
        {
            "type": "error",
            "code": "rate_limited",
            "message": "Zu viele Nachrichten aus Ihrem Netzwerk; bitte warten Sie eine Minute.",
        },
    )
    assert not Conversation.objects.exists()


def test_a_message_that_could_not_be_stored_is_answered_in_its_language(tenant: Tenant, fail: Fail) -> None:
    # given a Japanese customer's conversation, and our database failing as their next message is stored
    opened = conversation_written_in(tenant, "予約をキャンセルしたいです")
    fail("message_receive", OperationalError("server closed the connection unexpectedly"))
    # when they send it
    body = {
        "key": tenant.public_key,
        "resume_token": opened.resume_token,
        "client_id": "j-2",
        "text": "料金はいくらですか",
    }
    response = post(MESSAGES, body)
    # then the internal error is Japanese, with the conversation to resend it to
    assert response.status_code == 500
    assert response.json() == {
        "type": "error",
        "code": "internal",
        "message": "申し訳ありません。当社側で問題が発生しました。もう一度お試しください。",
        "conversation_id": opened.conversation.pk,
        "resume_token": opened.resume_token,
    }


@pytest.mark.parametrize(
    ("path", "fields", "status", "field", "messages"),
    [case for case in REFUSED_BODIES if case.id != "bad-email"],  # refused for the conversation: the test below
)
def test_another_tenants_conversation_lends_no_language(
    tenant: Tenant,
    other_tenant: Tenant,
    path: str,
    fields: dict[str, Any],
    status: int,
    field: str,
    messages: dict[str, str],
) -> None:
    # given the other tenant's German conversation
    theirs = conversation_written_in(other_tenant, WRITTEN["de"])
    # when its resume token comes with this tenant's widget key and a body the socket would refuse
    response = post(path, {"key": tenant.public_key, "resume_token": theirs.resume_token, **fields})
    # then it is refused as before, in English: nothing of theirs shows, not even their language
    assert (response.status_code, response.json()["message"], response.json()["field"]) == (
        status,
        messages["en"],
        field,
    )
    assert Message.objects.count() == 1 and not Escalation.objects.exists()


def test_another_tenants_conversation_cannot_be_handed_over(tenant: Tenant, other_tenant: Tenant) -> None:
    # given the other tenant's German conversation
    theirs = conversation_written_in(other_tenant, WRITTEN["de"])
    # when this tenant's widget key asks to hand it over, with a well-formed body
    response = post(ESCALATE, {"key": tenant.public_key, "resume_token": theirs.resume_token, "reason": "help"})
    # then, as before, there is no such conversation of this tenant, and nothing is handed over
    assert (response.status_code, response.json()["code"]) == (404, "not_found")
    assert "live conversation" in response.json()["message"]
    assert not Escalation.objects.exists()


def test_a_language_that_cannot_be_read_leaves_the_error_english(
    tenant: Tenant, fail: Fail, caplog: pytest.LogCaptureFixture
) -> None:
    # given a German customer's conversation, and our database failing as its language is read
    opened = conversation_written_in(tenant, WRITTEN["de"])
    fail("conversation_resume", OperationalError("canceling statement due to statement timeout"))
    # when its client sends a malformed phone number
    response = post(ESCALATE, {"key": tenant.public_key, "resume_token": opened.resume_token, "phone": "abc"})
    # then the error is still the client's, in English, and our failure is logged
    assert (response.status_code, response.json()) == (
        400,
        {
            "type": "error",
            "code": "bad_request",
            "message": "'phone' must be a phone number: 7 to 15 digits, with an optional leading +.",
            "field": "phone",
        },
    )
    assert "could not be read" in caplog.text


@pytest.mark.parametrize(("path", "fields"), [(ESCALATE, {"reason": "help"}), (CONFIRM, {"proposal_id": "p-1"})])
def test_a_database_that_fails_is_not_asked_again_for_the_customers_language(
    tenant: Tenant, monkeypatch: pytest.MonkeyPatch, path: str, fields: dict[str, Any]
) -> None:
    # given a German customer's conversation, and our database failing from now on
    opened = conversation_written_in(tenant, WRITTEN["de"])
    looked_up: list[str] = []

    def failing(*, tenant: Tenant, resume_token: str) -> None:
        looked_up.append(resume_token)
        raise OperationalError("could not connect to server: Connection refused")

    monkeypatch.setattr(services, "conversation_resume", failing)
    # when its client asks for a person, or confirms a proposal
    response = post(path, {"key": tenant.public_key, "resume_token": opened.resume_token, **fields})
    # then it is told at once that the service is unavailable: the conversation was looked up once,
    # not again for a language to say so in
    assert (response.status_code, response.json()["code"]) == (503, "unavailable")
    assert looked_up == [opened.resume_token]
