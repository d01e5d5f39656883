"""The inbox queue stays bounded however many escalations stay open: at most 200 live rows (the most
urgent) and a count of the rest, the ticket backlog apart and paged, the socket's queue frame capped
the same way, and a constant number of queries."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from escalations.models import Escalation, Mode, Status
from escalations.selectors import waiting_position
from escalations.tests.conftest import StaffConnect
from escalations.tests.factories import EscalationFactory
from supportai.models import Tenant

LIMIT = 200  # the documented cap of live rows (docs/websocket-protocol.md, "Staff inbox socket")
PAGE = 50  # ticket backlog rows per page


def logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def open_escalations(tenant: Tenant, count: int, **fields: object) -> list[Escalation]:
    return list(EscalationFactory.create_batch(count, conversation__tenant=tenant, **fields))


def section(page: str, element_id: str) -> str:
    """The HTML of the ``<ol id=element_id>`` list."""
    match = re.search(rf'<ol id="{element_id}".*?</ol>', page, re.S)
    assert match, element_id
    return match.group(0)


def shown(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'data-escalation="(\d+)"', html)]


@pytest.mark.django_db
def test_the_page_renders_at_most_the_cap_and_counts_the_rest(agent: User, tenant: Tenant) -> None:
    # given more open live escalations than the cap, the most urgent one created last
    open_escalations(tenant, LIMIT + 2, priority="low")
    urgent = EscalationFactory.create(conversation__tenant=tenant, priority="high")
    # when an agent opens the inbox
    page = logged_in(agent).get("/console/inbox/").content.decode()
    # then the cap is shown, the most urgent first, and the rest only counted
    rows = shown(section(page, "queue-list"))
    assert len(rows) == LIMIT and rows[0] == urgent.pk
    assert "and 3 more" in page


@pytest.mark.django_db
def test_under_the_cap_there_is_no_more_line(agent: User, tenant: Tenant) -> None:
    escalations = open_escalations(tenant, 3)
    page = logged_in(agent).get("/console/inbox/").content.decode()
    assert sorted(shown(section(page, "queue-list"))) == sorted(e.pk for e in escalations)
    assert "more</" not in page and "and 0 more" not in page


@pytest.mark.django_db
def test_the_detail_page_is_bounded_too(agent: User, tenant: Tenant) -> None:
    escalations = open_escalations(tenant, LIMIT + 1, priority="low")
    beyond = max(escalations, key=lambda e: (e.sla_due_at, e.created_at, e.pk))
    response = logged_in(agent).get(f"/console/inbox/{beyond.pk}/")
    page = response.content.decode()
    assert response.status_code == 200 and f"Escalation #{beyond.pk}" in page
    assert len(shown(section(page, "queue-list"))) == LIMIT and "and 1 more" in page


@pytest.mark.django_db
def test_places_in_line_of_the_rows_shown_are_the_customers(agent: User, tenant: Tenant) -> None:
    # given waiting, claimed and ticket escalations interleaved in the queue order
    now = timezone.now()
    for minutes, status, mode in [
        (1, Status.PENDING, Mode.LIVE),
        (2, Status.ACKNOWLEDGED, Mode.LIVE),
        (3, Status.PENDING, Mode.TICKET),
        (4, Status.PENDING, Mode.LIVE),
    ]:
        EscalationFactory.create(
            conversation__tenant=tenant, status=status, mode=mode, sla_due_at=now + timedelta(minutes=minutes)
        )
    # when the inbox shows them
    page = logged_in(agent).get("/console/inbox/").content.decode()
    # then each live row shows the place in line the customer's banner shows
    for escalation in Escalation.objects.filter(tenant=tenant, status=Status.PENDING, mode=Mode.LIVE):
        position = waiting_position(tenant=tenant, escalation=escalation)
        assert re.search(rf'data-escalation="{escalation.pk}">\s*<a[^>]*>.*?#{position} in line', page, re.S)


@pytest.mark.django_db
def test_the_ticket_backlog_is_apart_and_paged(agent: User, tenant: Tenant) -> None:
    # given one live escalation and more tickets (out of hours, waiting for an email reply) than a page
    live = EscalationFactory.create(conversation__tenant=tenant)
    tickets = open_escalations(tenant, PAGE + 2, mode=Mode.TICKET)
    client = logged_in(agent)
    # when the inbox opens
    page = client.get("/console/inbox/").content.decode()
    # then the live queue holds only the live escalation, the backlog the first page of tickets
    assert shown(section(page, "queue-list")) == [live.pk]
    first = shown(section(page, "backlog-list"))
    assert len(first) == PAGE and set(first) <= {t.pk for t in tickets}
    assert f"Ticket backlog ({PAGE + 2})" in page
    # and the next page holds the rest
    second = shown(section(client.get("/console/inbox/?tickets=2").content.decode(), "backlog-list"))
    assert len(second) == 2 and set(first) | set(second) == {t.pk for t in tickets}


@pytest.mark.django_db
@pytest.mark.parametrize("raw", ["abc", "-1", "0", "99999", "9" * 5000, "1.5"])
def test_a_bad_backlog_page_shows_a_page_not_an_error(agent: User, tenant: Tenant, raw: str) -> None:
    open_escalations(tenant, 2, mode=Mode.TICKET)
    response = logged_in(agent).get("/console/inbox/", {"tickets": raw})
    assert response.status_code == 200
    assert len(shown(section(response.content.decode(), "backlog-list"))) == 2


@pytest.mark.django_db
def test_another_tenants_queue_is_neither_shown_nor_counted(
    agent: User, tenant: Tenant, other_tenant: Tenant, outsider: User
) -> None:
    # given another tenant with more live escalations than the cap and a ticket backlog
    foreign = open_escalations(other_tenant, LIMIT + 1) + open_escalations(other_tenant, 2, mode=Mode.TICKET)
    ours = EscalationFactory.create(conversation__tenant=tenant)
    # when our agent opens the inbox and a backlog page
    for url in ("/console/inbox/", "/console/inbox/?tickets=2", f"/console/inbox/{ours.pk}/"):
        page = logged_in(agent).get(url).content.decode()
        # then none of theirs is shown or counted
        assert shown(page) == [ours.pk], url
        assert " more" not in section(page, "queue-list") and "and 201 more" not in page
        assert "Ticket backlog (0)" in page
    assert logged_in(agent).get(f"/console/inbox/{foreign[-1].pk}/").status_code == 404
    # and the other tenant sees its own, bounded
    theirs = logged_in(outsider).get("/console/inbox/").content.decode()
    assert ours.pk not in shown(theirs) and "and 1 more" in theirs and "Ticket backlog (2)" in theirs


def _page_queries(client: Client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/console/inbox/").status_code == 200
    return len(queries)


@pytest.mark.django_db
def test_the_page_query_count_does_not_grow_with_rows(agent: User, tenant: Tenant) -> None:
    client = logged_in(agent)
    open_escalations(tenant, 2)
    open_escalations(tenant, 2, mode=Mode.TICKET)
    few = _page_queries(client)
    open_escalations(tenant, LIMIT, status=Status.ACKNOWLEDGED, assigned_to=agent)
    open_escalations(tenant, PAGE + 5, mode=Mode.TICKET, assigned_to=agent)
    assert _page_queries(client) == few


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_the_queue_frame_is_bounded_and_counts_the_rest(
    staff_connect: StaffConnect, tenant: Tenant, other_tenant: Tenant, agent: User
) -> None:
    # given more live escalations than the cap, a ticket backlog, and another tenant's queue
    await asyncio.to_thread(open_escalations, tenant, LIMIT + 4)
    await asyncio.to_thread(open_escalations, tenant, 3, mode=Mode.TICKET)
    await asyncio.to_thread(open_escalations, other_tenant, 5)
    await asyncio.to_thread(open_escalations, other_tenant, 5, mode=Mode.TICKET)
    # when the agent's socket connects
    staff = await staff_connect(agent, tenant, expect_queue=False)
    frame = await staff.receive()
    # then the frame carries the cap of live rows and only counts the rest and the backlog
    assert frame["type"] == "queue"
    assert len(frame["items"]) == LIMIT and {row["mode"] for row in frame["items"]} == {Mode.LIVE}
    assert frame["more"] == 4 and frame["tickets"] == 3
