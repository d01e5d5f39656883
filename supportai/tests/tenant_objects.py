"""One object of each kind a console or API route names, made for a tenant: the walks of every route
(``test_url_tenancy``, ``test_console_query_properties``) fill URLs with them. The tenant's Slack
notifications are switched off, so switching them back on is a change the walks can see."""

from __future__ import annotations

from datetime import time

from django.utils import timezone

from bookings import catalog
from bookings.models import BookingEmail, PaymentMode
from bookings.services import CUSTOMER, booking_create
from bookings.tests.conftest import local, next_weekday, open_every_day
from bookings.tests.factories import ServiceFactory
from chat.services import conversation_open
from escalations.models import EscalationPolicy
from escalations.tests.factories import EscalationFactory, MessageFactory
from knowledge.models import KnowledgeSource, SourceKind
from knowledge.tests.factories import add_document
from supportai.models import Tenant

World = dict[str, int]  # a tenant's objects that routes name, by kind


def objects_of(tenant: Tenant, word: str) -> World:
    """One object of ``tenant`` of each kind, those with text naming ``word``."""
    open_every_day(tenant)
    service = ServiceFactory.create(
        tenant=tenant, name=f"{word} massage", price_cents=5000, payment=PaymentMode.ON_ARRIVAL
    )
    start = local(tenant, next_weekday(3), 11)
    booking = booking_create(tenant=tenant, service=service, start=start, name=word, email="p@ex.org", actor=CUSTOMER)
    # the service's own hours on the booking's day (its confirmation page names the service), around the booking
    rule = catalog.rule_add(
        tenant=tenant, service=service, weekday=start.weekday(), start_time=time(9), end_time=time(17), capacity=1
    )
    conversation = conversation_open(tenant=tenant).conversation
    MessageFactory.create(conversation=conversation, text=f"{word} asks about parking")
    escalation = EscalationFactory.create(conversation=conversation, reason=f"{word} wants a person")
    # Slack switched off by a 410, for an owner or admin to switch back on (the inbox names why)
    EscalationPolicy.objects.update_or_create(
        tenant=tenant, defaults={"slack_disabled_at": timezone.now(), "slack_disabled_reason": f"{word} hook archived"}
    )
    source = KnowledgeSource.objects.create(
        tenant=tenant, name=f"{word} site", kind=SourceKind.URL, config={"start_url": "https://alpha.example.com/"}
    )
    document = add_document(tenant, f"{word} parking", f"{word} parking is behind the studio.", source=source)
    return {
        "service": service.pk,
        "booking": booking.pk,
        "email": BookingEmail.objects.filter(booking=booking).earliest("pk").pk,
        "rule": rule.pk,
        "blackout": catalog.blackout_add(
            tenant=tenant, service=None, day=next_weekday(5, weeks=2), reason=f"{word} day off"
        ).pk,
        "conversation": conversation.pk,
        "escalation": escalation.pk,
        "source": source.pk,
        "document": document.pk,
        "chunk": document.chunks.earliest("pk").pk,
    }
