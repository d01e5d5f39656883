"""Admin inlines (audit trails, messages, deliveries) follow the parent page's tenant scoping:
whoever may view the parent row sees its inline rows, read-only; nobody adds, edits or deletes
them there, and another tenant's rows never show."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django.test import Client, RequestFactory
from django.utils import timezone

from bookings.admin import BookingEmailInline, BookingEventInline
from bookings.models import Booking, BookingEmail, BookingEvent, BookingEventKind, EmailKind
from bookings.tests.factories import ServiceFactory
from chat.admin import MessageInline
from chat.models import Conversation, Message
from escalations.admin import DeliveryInline, EventInline
from escalations.models import Escalation, EscalationEvent, EventKind, NotificationDelivery, Status
from escalations.tests.factories import ConversationFactory, EscalationFactory, MessageFactory
from supportai.models import Tenant
from supportai.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Parent:
    """A parent row's admin page and the texts its inline rows show there."""

    url: str
    row_texts: tuple[str, ...]
    # One field of each inline's first row: shown as text, never as an input.
    row_fields: tuple[str, ...]


def _escalation(tenant: Tenant) -> Parent:
    escalation = EscalationFactory.create(conversation__tenant=tenant)
    EscalationEvent.objects.create(
        tenant=tenant,
        escalation=escalation,
        kind=EventKind.CREATED,
        to_status=Status.PENDING,
        detail={"note": f"audit-{tenant.slug}"},
    )
    NotificationDelivery.objects.create(
        tenant=tenant, escalation=escalation, channel="email", last_error=f"smtp-{tenant.slug}"
    )
    return Parent(
        f"/admin/escalations/escalation/{escalation.pk}/change/",
        (f"audit-{tenant.slug}", f"smtp-{tenant.slug}"),
        ("events-0-detail", "deliveries-0-last_error"),
    )


def _conversation(tenant: Tenant) -> Parent:
    conversation = ConversationFactory.create(tenant=tenant)
    MessageFactory.create(conversation=conversation, text=f"hello-from-{tenant.slug}")
    return Parent(
        f"/admin/chat/conversation/{conversation.pk}/change/", (f"hello-from-{tenant.slug}",), ("messages-0-text",)
    )


def _booking(tenant: Tenant) -> Parent:
    start = timezone.now() + timedelta(days=3)
    booking = Booking.objects.create(
        tenant=tenant,
        service=ServiceFactory.create(tenant=tenant),
        customer_name="Ann",
        customer_email="ann@example.org",
        start_at=start,
        end_at=start + timedelta(hours=1),
        blocked_until=start + timedelta(hours=1),
        confirmation_code=f"CODE{tenant.slug.upper()}",
    )
    BookingEvent.objects.create(
        tenant=tenant, booking=booking, kind=BookingEventKind.NOTE, actor=f"staff:note-{tenant.slug}"
    )
    BookingEmail.objects.create(
        tenant=tenant, booking=booking, kind=EmailKind.CONFIRMATION, last_error=f"smtp-{tenant.slug}"
    )
    return Parent(
        f"/admin/bookings/booking/{booking.pk}/change/",
        (f"staff:note-{tenant.slug}", f"smtp-{tenant.slug}"),
        ("events-0-actor", "emails-0-last_error"),
    )


PARENTS = pytest.mark.parametrize(
    "make_parent", [_escalation, _conversation, _booking], ids=["escalation", "conversation", "booking"]
)


def _client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _assert_read_only(page: str, parent: Parent) -> None:
    """Each inline is on the page, its rows shown as text, with no room for a new row (the admin's
    script adds an "Add another" row only below the maximum) and nothing to delete."""
    for field in parent.row_fields:
        prefix = field.split("-")[0]
        assert f'name="{prefix}-MAX_NUM_FORMS" value="0"' in page
        assert f'name="{field}"' not in page
        assert f'name="{prefix}-0-DELETE"' not in page


@PARENTS
@pytest.mark.parametrize("role", ["owner", "agent"])
def test_tenant_staff_see_the_inline_rows_of_their_tenants_parent_read_only(
    make_parent, role: str, tenant: Tenant, request: pytest.FixtureRequest
) -> None:
    # given an owner or an agent of the parent's tenant
    parent = make_parent(tenant)
    user: User = request.getfixturevalue(role)
    # when
    response = _client_for(user).get(parent.url)
    # then
    assert response.status_code == 200
    page = response.content.decode()
    for text in parent.row_texts:
        assert text in page
    _assert_read_only(page, parent)


@PARENTS
def test_another_tenants_parent_stays_hidden_with_its_inline_rows(
    make_parent, owner: User, tenant: Tenant, other_tenant: Tenant
) -> None:
    # given a parent of each tenant
    make_parent(tenant)
    theirs = make_parent(other_tenant)
    # when the owner of the first opens the other's page
    response = _client_for(owner).get(theirs.url, follow=True)
    # then they are sent away as before, and nothing of the other tenant's rows shows
    assert response.redirect_chain and response.redirect_chain[0][1] == 302
    page = response.content.decode()
    for text in theirs.row_texts:
        assert text not in page


@PARENTS
def test_superuser_still_sees_every_tenants_inline_rows(make_parent, tenant: Tenant, other_tenant: Tenant) -> None:
    root = UserFactory.create(username="root", is_staff=True, is_superuser=True)
    client = _client_for(root)
    for made in (make_parent(tenant), make_parent(other_tenant)):
        page = client.get(made.url).content.decode()
        for text in made.row_texts:
            assert text in page


def test_saving_a_conversation_leaves_its_messages_alone(owner: User, tenant: Tenant) -> None:
    # given a conversation of the owner's tenant with one message
    conversation = ConversationFactory.create(tenant=tenant)
    message = MessageFactory.create(conversation=conversation, text="original")
    form = {
        "tenant": tenant.pk,
        "channel": conversation.channel,
        "modality": conversation.modality,
        "status": conversation.status,
        "last_activity_at_0": "2026-01-01",
        "last_activity_at_1": "00:00:00",
        "messages-TOTAL_FORMS": "2",
        "messages-INITIAL_FORMS": "1",
        "messages-MIN_NUM_FORMS": "0",
        "messages-MAX_NUM_FORMS": "0",
        "messages-0-id": message.pk,
        "messages-0-conversation": conversation.pk,
        "messages-0-text": "rewritten",
        "messages-0-DELETE": "on",
        "messages-1-conversation": conversation.pk,
        "messages-1-text": "smuggled",
    }
    # when the owner posts the page with edited, deleted and added inline rows
    response = _client_for(owner).post(f"/admin/chat/conversation/{conversation.pk}/change/", form)
    # then the conversation saves and its messages are as they were
    assert response.status_code == 302, response.content.decode()[:2000]
    assert list(Message.objects.filter(conversation=conversation).values_list("text", flat=True)) == ["original"]


@pytest.mark.parametrize(
    ("parent_model", "inline_class"),
    [
        (Escalation, EventInline),
        (Escalation, DeliveryInline),
        (Conversation, MessageInline),
        (Booking, BookingEventInline),
        (Booking, BookingEmailInline),
    ],
)
def test_an_inline_shows_to_the_parents_tenant_staff_only(
    parent_model, inline_class, owner: User, tenant: Tenant, other_tenant: Tenant, rf: RequestFactory
) -> None:
    # given the inline as the parent's page builds it, and a request of the owner of the first tenant
    inline = inline_class(parent_model, admin.site)
    request = rf.get("/admin/")
    request.user = owner
    ours = parent_model(tenant=tenant)
    theirs = parent_model(tenant=other_tenant)
    # then it follows the parent's tenant, and nobody writes through it
    assert inline.has_view_permission(request, ours)
    assert not inline.has_view_permission(request, theirs)
    assert not inline.has_add_permission(request, ours)
    assert not inline.has_change_permission(request, ours)
    assert not inline.has_delete_permission(request, ours)
