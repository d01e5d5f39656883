from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone

from chat.models import Conversation, Message, MessageRole
from escalations.models import Escalation
from supportai.tests.factories import TenantFactory


class ConversationFactory(factory.django.DjangoModelFactory[Conversation]):
    class Meta:
        model = Conversation

    tenant = factory.SubFactory(TenantFactory)
    resume_token_hash = factory.Sequence(lambda n: f"{n:064d}")


class MessageFactory(factory.django.DjangoModelFactory[Message]):
    class Meta:
        model = Message

    conversation = factory.SubFactory(ConversationFactory)
    tenant = factory.SelfAttribute("conversation.tenant")
    role = MessageRole.CUSTOMER
    text = "Hello"


class EscalationFactory(factory.django.DjangoModelFactory[Escalation]):
    class Meta:
        model = Escalation

    conversation = factory.SubFactory(ConversationFactory)
    tenant = factory.SelfAttribute("conversation.tenant")
    reason_codes = factory.LazyFunction(lambda: ["human_request"])
    reason = "I want a person"
    summary = "Customer: I want a person"
    sla_due_at = factory.LazyFunction(lambda: timezone.now() + timedelta(minutes=60))
