"""Console conversation list and transcript: notices, paging, cost, filters (tenant always scoped)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.contrib.messages import constants
from django.contrib.messages.storage.cookie import CookieStorage
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.test.utils import CaptureQueriesContext

from chat.console_views import PAGE_SIZE
from chat.models import Conversation, ConversationStatus, Message, MessageRole
from chat.selectors import conversation_list
from supportai.models import Tenant

pytestmark = pytest.mark.django_db

WHEN = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)


def _conversation(
    tenant: Tenant,
    *,
    text: str = "hello",
    cost: str = "0",
    status: str = ConversationStatus.OPEN,
    started_at: datetime = WHEN,
) -> Conversation:
    conversation = Conversation.objects.create(
        tenant=tenant,
        resume_token_hash=f"{tenant.pk}-{Conversation.objects.count()}".ljust(64, "x"),
        status=status,
        started_at=started_at,
        last_activity_at=WHEN,
    )
    Message.objects.create(tenant=tenant, conversation=conversation, role=MessageRole.CUSTOMER, text=text)
    Message.objects.create(
        tenant=tenant,
        conversation=conversation,
        role=MessageRole.ASSISTANT,
        text=f"Answer to {text}",
        cost_usd=Decimal(cost),
    )
    return conversation


def _client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _queue_notice(client: Client, text: str) -> None:
    """Queue a notice in the client's messages cookie, as a view's ``messages.success`` before a redirect would."""
    storage = CookieStorage(HttpRequest())
    storage.add(constants.SUCCESS, text)
    response = HttpResponse()
    storage.update(response)
    client.cookies[storage.cookie_name] = response.cookies[storage.cookie_name].value


def _row_links(response_text: str, conversations: list[Conversation]) -> list[int]:
    """The conversations whose row link is on the page, in page order."""
    found = [(response_text.find(f'href="/console/conversations/{c.pk}/"'), c.pk) for c in conversations]
    return [pk for position, pk in sorted(found) if position >= 0]


# Transcript page and notices


def test_conversation_detail_prints_no_transcript_turn_as_a_notice(agent: User, tenant: Tenant) -> None:
    conversation = _conversation(tenant, text="where do I park?")
    response = _client_for(agent).get(f"/console/conversations/{conversation.pk}/")
    assert response.status_code == 200
    assert 'class="message' not in response.text
    assert "where do I park?" in response.text
    assert "Answer to where do I park?" in response.text


def test_conversation_detail_shows_and_consumes_a_queued_notice(agent: User, tenant: Tenant) -> None:
    # given
    conversation = _conversation(tenant, text="hours?")
    client = _client_for(agent)
    _queue_notice(client, "Reply sent.")
    # when
    first = client.get(f"/console/conversations/{conversation.pk}/")
    second = client.get(f"/console/conversations/{conversation.pk}/")
    # then the notice is shown once, next to the transcript
    assert '<p class="message notice success" tabindex="-1" role="status">Reply sent.</p>' in first.text
    assert "hours?" in first.text
    assert "Reply sent." not in second.text


def test_conversation_detail_of_another_tenant_is_404_for_its_outsider(outsider: User, tenant: Tenant) -> None:
    mine = _conversation(tenant, text="alpha-secret")
    response = _client_for(outsider).get(f"/console/conversations/{mine.pk}/")
    assert response.status_code == 404
    assert "alpha-secret" not in response.text


# List paging and cost


def test_conversation_list_breaks_activity_ties_newest_first(tenant: Tenant) -> None:
    created = [_conversation(tenant) for _ in range(5)]
    assert [c.pk for c in conversation_list(tenant=tenant)] == sorted((c.pk for c in created), reverse=True)


def test_conversation_list_pages_show_every_tied_conversation_once(owner: User, tenant: Tenant) -> None:
    # given more conversations than a page, all with the same last activity
    created = [_conversation(tenant) for _ in range(PAGE_SIZE + 3)]
    client = _client_for(owner)
    # when
    first = _row_links(client.get("/console/conversations/").text, created)
    second = _row_links(client.get("/console/conversations/", {"page": "2"}).text, created)
    # then
    assert len(first) == PAGE_SIZE and len(second) == 3
    assert first + second == sorted((c.pk for c in created), reverse=True)


def test_conversation_list_costs_each_conversation_without_joining_messages_into_the_count(
    owner: User, tenant: Tenant, other_tenant: Tenant
) -> None:
    # given
    cheap = _conversation(tenant, cost="0.2500")
    dear = _conversation(tenant, cost="1.5000")
    theirs = _conversation(other_tenant, cost="9.0000")
    # when
    with CaptureQueriesContext(connection) as queries:
        response = _client_for(owner).get("/console/conversations/")
    # then each row has its own conversation's cost, and only this tenant's rows are shown
    assert f'href="/console/conversations/{theirs.pk}/"' not in response.text
    assert "$9.0000" not in response.text
    for conversation, cost in ((cheap, "$0.2500"), (dear, "$1.5000")):
        row_start = response.text.index(f'href="/console/conversations/{conversation.pk}/"')
        row = response.text[row_start : response.text.index("</tr>", row_start)]
        assert cost in row
    # and the paginator's count reads conversations only
    counts = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"] and "chat_conversation" in q["sql"]]
    assert counts and all("chat_message" not in sql for sql in counts)


def test_conversation_list_queries_do_not_grow_with_its_rows(owner: User, tenant: Tenant) -> None:
    client = _client_for(owner)
    _conversation(tenant, cost="0.1")
    with CaptureQueriesContext(connection) as one_row:
        client.get("/console/conversations/")
    for _ in range(4):
        _conversation(tenant, cost="0.1")
    with CaptureQueriesContext(connection) as five_rows:
        client.get("/console/conversations/")
    assert len(five_rows) == len(one_row)


# Filters


def test_conversation_list_applies_valid_filters_and_shows_the_invalid_ones(owner: User, tenant: Tenant) -> None:
    # given
    escalated = _conversation(tenant, status=ConversationStatus.ESCALATED)
    still_open = _conversation(tenant, status=ConversationStatus.OPEN)
    # when a filter's date does not exist
    response = _client_for(owner).get("/console/conversations/", {"status": "escalated", "date_from": "2024-02-30"})
    # then the status filter still applies and the bad date is reported
    assert response.status_code == 200
    assert f'href="/console/conversations/{escalated.pk}/"' in response.text
    assert f'href="/console/conversations/{still_open.pk}/"' not in response.text
    assert 'role="alert"' in response.text
    assert "Date from" in response.text and "Enter a valid date." in response.text


def test_conversation_list_with_valid_filters_shows_no_error(owner: User, tenant: Tenant) -> None:
    _conversation(tenant, status=ConversationStatus.ESCALATED)
    response = _client_for(owner).get("/console/conversations/", {"status": "escalated"})
    assert 'role="alert"' not in response.text


def test_conversation_list_dates_are_the_tenants_local_days(owner: User, tenant: Tenant) -> None:
    # given a New York tenant whose conversation started on 9 March, 22:00 local (10 March, 03:00 UTC)
    tenant.timezone = "America/New_York"
    tenant.save(update_fields=["timezone"])
    late = _conversation(tenant, started_at=datetime(2024, 3, 10, 3, 0, tzinfo=UTC))
    link = f'href="/console/conversations/{late.pk}/"'
    client = _client_for(owner)
    # when / then it belongs to 9 March, not 10 March
    assert link in client.get("/console/conversations/", {"date_from": "2024-03-09", "date_to": "2024-03-09"}).text
    assert link not in client.get("/console/conversations/", {"date_from": "2024-03-10"}).text
    assert link not in client.get("/console/conversations/", {"date_to": "2024-03-08"}).text


def test_conversation_pages_print_start_times_in_the_tenants_zone(owner: User, tenant: Tenant) -> None:
    # given a New York tenant whose conversation started on 9 March, 22:00 local (10 March, 03:00 UTC)
    tenant.timezone = "America/New_York"
    tenant.save(update_fields=["timezone"])
    late = _conversation(tenant, started_at=datetime(2024, 3, 10, 3, 0, tzinfo=UTC))
    client = _client_for(owner)
    # when the list and the conversation's page are shown, then both print the local time, and say whose
    listed = client.get("/console/conversations/").text
    detail = client.get(f"/console/conversations/{late.pk}/").text
    assert "2024-03-09 22:00" in listed and "2024-03-10 03:00" not in listed
    assert "<th>Started (America/New_York)</th>" in listed
    assert "2024-03-09 22:00:00 America/New_York from" in detail and "2024-03-10 03:00:00" not in detail


def test_conversation_list_filters_never_show_another_tenants_conversations(
    outsider: User, tenant: Tenant, other_tenant: Tenant
) -> None:
    mine = _conversation(tenant, status=ConversationStatus.ESCALATED)
    theirs = _conversation(other_tenant, status=ConversationStatus.ESCALATED)
    response = _client_for(outsider).get("/console/conversations/", {"status": "escalated", "date_from": "bad"})
    assert f'href="/console/conversations/{theirs.pk}/"' in response.text
    assert f'href="/console/conversations/{mine.pk}/"' not in response.text
