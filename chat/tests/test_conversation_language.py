"""The conversation's language (``conversation_language``): that of the customer's latest message that
tells one, so a German conversation's "OK" keeps it German; read per tenant."""

from __future__ import annotations

import pytest

from chat import services
from chat.selectors import conversation_language_get
from chat.tests.conftest import conversation_written_in
from supportai.models import Tenant

pytestmark = pytest.mark.django_db

GERMAN = "Wie kann ich einen Termin buchen?"


def _then(tenant: Tenant, opened: services.OpenedConversation, text: str) -> None:
    services.message_receive(tenant=tenant, conversation=opened.conversation, client_id=text, text=text)


def test_a_message_that_tells_no_language_keeps_the_conversations(tenant: Tenant) -> None:
    opened = conversation_written_in(tenant, GERMAN)
    _then(tenant, opened, "OK")
    _then(tenant, opened, "10:00")
    assert conversation_language_get(tenant=tenant, conversation=opened.conversation) == "de"


@pytest.mark.parametrize(
    ("first", "then", "kept"),
    [
        (GERMAN, "um 10 Uhr", "de"),  # "um" is Portuguese's "a" too
        ("Je voudrais réserver un massage pour mon fils.", "Non merci", "fr"),  # "non" is Italian's no too
        ("¿Cómo puedo reservar una cita?", "No, gracias", "es"),  # "no" is English's too
        ("Hoe kan ik een afspraak maken?", "Dank je", "nl"),  # "je" is French's I too
    ],
)
def test_one_word_another_language_shares_keeps_the_conversations(
    tenant: Tenant, first: str, then: str, kept: str
) -> None:
    opened = conversation_written_in(tenant, first)
    _then(tenant, opened, then)
    _then(tenant, opened, "OK")
    assert conversation_language_get(tenant=tenant, conversation=opened.conversation) == kept


def test_a_message_in_another_language_changes_it(tenant: Tenant) -> None:
    opened = conversation_written_in(tenant, GERMAN)
    _then(tenant, opened, "Can you book it for me?")
    assert conversation_language_get(tenant=tenant, conversation=opened.conversation) == "en"


def test_a_conversation_without_a_message_that_tells_one_is_english(tenant: Tenant) -> None:
    opened = conversation_written_in(tenant, "OK")
    assert conversation_language_get(tenant=tenant, conversation=opened.conversation) == "en"


def test_another_tenants_conversation_tells_nothing(tenant: Tenant, other_tenant: Tenant) -> None:
    # given a German conversation of the other tenant
    theirs = conversation_written_in(other_tenant, GERMAN)
    # when its language is read for this tenant, then none of its messages is read: English
    assert conversation_language_get(tenant=tenant, conversation=theirs.conversation) == "en"
    assert conversation_language_get(tenant=other_tenant, conversation=theirs.conversation) == "de"
