from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.test import Client

from chat.models import Conversation, ConversationRating, Message, MessageFeedback, MessageRole
from supportai.models import Tenant

pytestmark = pytest.mark.django_db


def _conversation(tenant: Tenant, token: str, text: str, rating: int | None = None) -> Conversation:
    conversation = Conversation.objects.create(tenant=tenant, resume_token_hash=token)
    question = Message.objects.create(tenant=tenant, conversation=conversation, role=MessageRole.CUSTOMER, text=text)
    answer = Message.objects.create(
        tenant=tenant,
        conversation=conversation,
        role=MessageRole.ASSISTANT,
        text=f"Answer to {text} [1]",
        reply_to=question,
        tier=1,
        provider="local",
        model="local-extractive",
        confidence=0.9,
        cost_usd=Decimal("0.000125"),
        input_tokens=120,
        output_tokens=30,
        cache_write_tokens=900,
        latency_ms=42.0,
        time_to_first_token_ms=12.0,
        sources=[
            {
                "index": 1,
                "title": "Opening hours",
                "url": "https://alpha.example.com/hours",
                "document_id": 1,
                "chunk_id": 2,
            }
        ],
    )
    MessageFeedback.objects.create(tenant=tenant, message=answer, value="down", comment="too vague")
    if rating:
        ConversationRating.objects.create(tenant=tenant, conversation=conversation, rating=rating)
    return conversation


def _client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_conversation_list_shows_own_tenant_only(owner: User, tenant: Tenant, other_tenant: Tenant) -> None:
    mine = _conversation(tenant, "a" * 64, "mine")
    theirs = _conversation(other_tenant, "b" * 64, "theirs")
    response = _client_for(owner).get("/console/conversations/")
    assert response.status_code == 200
    assert f'href="/console/conversations/{mine.pk}/"' in response.text
    assert f'href="/console/conversations/{theirs.pk}/"' not in response.text


def test_conversation_list_filters_by_rating_and_status(owner: User, tenant: Tenant) -> None:
    five = _conversation(tenant, "c" * 64, "great", rating=5)
    two = _conversation(tenant, "d" * 64, "poor", rating=2)
    response = _client_for(owner).get("/console/conversations/", {"rating": "5", "status": "open"})
    assert f"/console/conversations/{five.pk}/" in response.text
    assert f"/console/conversations/{two.pk}/" not in response.text
    junk = _client_for(owner).get("/console/conversations/", {"rating": "9", "date_from": "yesterday"})
    assert junk.status_code == 200


def test_conversation_detail_shows_costs_sources_and_feedback(agent: User, tenant: Tenant) -> None:
    conversation = _conversation(tenant, "e" * 64, "<script>alert(1)</script>")
    response = _client_for(agent).get(f"/console/conversations/{conversation.pk}/")
    assert response.status_code == 200
    assert "local/local-extractive" in response.text
    assert "$0.000125" in response.text
    assert "120/30 tokens (900 written to a prompt cache)" in response.text
    assert 'data-testid="total-cost">$0.000125 (120 in / 30 out / 900 cache-write tokens)' in response.text
    assert "Opening hours" in response.text and "too vague" in response.text
    assert "<script>alert(1)</script>" not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text


def test_conversation_detail_links_only_http_sources(agent: User, tenant: Tenant) -> None:
    # given an answer citing a source whose document gave a script address, and one with a web address
    conversation = _conversation(tenant, "g" * 64, "parking?")
    Message.objects.create(
        tenant=tenant,
        conversation=conversation,
        role=MessageRole.ASSISTANT,
        text="See [1] and [2]",
        sources=[
            {"index": 1, "title": "Hostile", "url": "JavaScript:alert(document.cookie)"},
            {
                "index": 2,
                "title": "Parking",
                "url": "https://alpha.example.com/parking",
                "document_id": 7,
                "chunk_id": 9,
            },
        ],
    )
    # when
    response = _client_for(agent).get(f"/console/conversations/{conversation.pk}/")
    # then the script address is plain text, the web address a link
    assert "javascript:" not in response.text.lower()
    assert "[1] <bdi>Hostile</bdi>;" in response.text
    # and a source with its document leads to the quoted chunk on the document's page
    assert (
        '[2] <a href="/console/knowledge/documents/7/?chunk=9#chunk-9"><bdi>Parking</bdi></a> '
        '<a href="https://alpha.example.com/parking" rel="noopener noreferrer" aria-label="Parking on the web">↗</a>'
    ) in response.text


def test_conversation_detail_of_another_tenant_is_404(owner: User, other_tenant: Tenant) -> None:
    theirs = _conversation(other_tenant, "f" * 64, "private")
    response = _client_for(owner).get(f"/console/conversations/{theirs.pk}/")
    assert response.status_code == 404
    assert "private" not in response.text


def test_conversations_require_login(db: None) -> None:
    assert Client().get("/console/conversations/").status_code == 302


def test_chat_admin_is_tenant_scoped(owner: User, tenant: Tenant, other_tenant: Tenant) -> None:
    _conversation(tenant, "g" * 64, "visible-question")
    _conversation(other_tenant, "h" * 64, "hidden-question")
    response = _client_for(owner).get("/admin/chat/message/")
    assert "visible-question" in response.text
    assert "hidden-question" not in response.text


def test_demo_page_embeds_the_widget_for_the_demo_tenant(db: None) -> None:
    from supportai.demo import seed_demo_tenant

    assert Client().get("/demo/").status_code == 503
    tenant = seed_demo_tenant().tenant
    response = Client().get("/demo/")
    assert response.status_code == 200
    assert f'data-key="{tenant.public_key}"' in response.text
    assert "/static/widget/supportai.js" in response.text
