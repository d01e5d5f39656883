"""Places in line stay cheap however long the line is: a raise or a claim counts the escalations ahead
through the waiting line's index and reads only the rows whose place changed, and those customers are
told their new place (docs/websocket-protocol.md, ``position``: re-sent whenever it changes)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from chat.models import Conversation
from escalations.models import Escalation, Mode, Priority, Status
from escalations.selectors import QueueKey, escalation_queue, place_with_version, places_between, waiting_position
from escalations.services import escalation_raise
from escalations.staff import escalation_assign, escalation_claim
from escalations.tests.conftest import ALWAYS, set_hours
from escalations.tests.factories import ConversationFactory, EscalationFactory
from escalations.tests.listening import Customers
from escalations.triggers import ReasonCode, TriggerHit
from supportai.models import Tenant

pytestmark = pytest.mark.django_db
HUMAN = TriggerHit(ReasonCode.HUMAN_REQUEST, "talk to a human")
SECURITY = TriggerHit(ReasonCode.SECURITY, "my account was hacked")
ESCALATION_TABLE = '"escalations_escalation"'


@pytest.fixture(autouse=True)
def _open_and_unlimited(tenant: Tenant, other_tenant: Tenant) -> None:
    cache.clear()  # the per-tenant raise limits
    set_hours(tenant, ALWAYS)
    set_hours(other_tenant, ALWAYS)


def waiting(tenant: Tenant, count: int, *, priority: str, due_in: timedelta) -> list[Escalation]:
    return list(
        EscalationFactory.create_batch(
            count, conversation__tenant=tenant, priority=priority, sla_due_at=timezone.now() + due_in
        )
    )


def line(tenant: Tenant) -> dict[int, int]:
    """Conversation id → place in line, counted afresh over the whole line (the reference)."""
    rows = escalation_queue(tenant=tenant).filter(status=Status.PENDING, mode=Mode.LIVE)
    return {row.conversation_id: place for place, row in enumerate(rows, start=1)}


def listening(*tenants: Tenant) -> Customers:
    """Every customer of these tenants listening on the channel layer, as their chat socket does."""
    customers = Customers()
    customers.listen(*Conversation.objects.filter(tenant__in=tenants).values_list("pk", flat=True))
    return customers


def told(customers: Customers) -> dict[int, int]:
    """Conversation id → the place each listening customer was told last, on the channel layer."""
    last: dict[int, int] = {}
    for conversation_id, places in customers.places_told().items():
        for place in filter(None, places):  # the claimed customer's frame has none
            last[conversation_id] = place
    return last


@contextmanager
def escalation_rows_read() -> Iterator[list[int]]:
    """The number of escalation rows each query sent back (a COUNT sends one)."""
    counts: list[int] = []

    def count_rows(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict[str, Any]) -> Any:
        result = execute(sql, params, many, context)
        if sql.lstrip().startswith("SELECT") and f"FROM {ESCALATION_TABLE}" in sql:
            counts.append(context["cursor"].rowcount)
        return result

    with connection.execute_wrapper(count_rows):
        yield counts


def test_a_raise_at_the_back_of_a_long_line_reads_none_of_it(
    tenant: Tenant, other_tenant: Tenant, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    # given a long line, and another tenant's line
    ahead = waiting(tenant, 120, priority=Priority.MEDIUM, due_in=timedelta(minutes=5))
    waiting(other_tenant, 30, priority=Priority.HIGH, due_in=timedelta(minutes=1))
    conversation = ConversationFactory.create(tenant=tenant)
    customers = listening(tenant, other_tenant)
    # when a customer asks for a person and joins at the back
    with (
        CaptureQueriesContext(connection) as queries,
        escalation_rows_read() as rows,
        django_capture_on_commit_callbacks(execute=True),
    ):
        raised = escalation_raise(tenant=tenant, conversation_id=conversation.pk, hits=[HUMAN])
    # then their place counts only this tenant's line, nobody ahead is told anything,
    # and no query read the line row by row
    assert raised.frame["position"] == len(ahead) + 1 == line(tenant)[conversation.pk]
    assert told(customers) == {}
    assert sum(rows) < 10, rows
    assert len(queries) <= 20


def test_a_raise_ahead_of_part_of_the_line_tells_and_reads_only_those_it_overtakes(
    tenant: Tenant, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    # given more urgent customers due sooner, then urgent ones due later, then the rest
    first = waiting(tenant, 20, priority=Priority.HIGH, due_in=timedelta(minutes=1))
    behind = waiting(tenant, 20, priority=Priority.HIGH, due_in=timedelta(hours=2))
    behind += waiting(tenant, 40, priority=Priority.MEDIUM, due_in=timedelta(minutes=1))
    conversation = ConversationFactory.create(tenant=tenant)
    customers = listening(tenant)
    # when a security escalation (due in 15 minutes) joins
    with escalation_rows_read() as rows, django_capture_on_commit_callbacks(execute=True):
        raised = escalation_raise(tenant=tenant, conversation_id=conversation.pk, hits=[SECURITY])
    # then it is behind the first ones, and exactly the customers it went ahead of are told their new place
    places = line(tenant)
    assert raised.frame["position"] == len(first) + 1 == places[conversation.pk]
    assert told(customers) == {e.conversation_id: places[e.conversation_id] for e in behind}
    assert sum(rows) < len(behind) + 10, rows


def test_a_reprioritised_raise_tells_only_those_between_its_old_and_new_place_and_itself(
    tenant: Tenant, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    # given a line of twenty, the customer tenth in line
    escalations = [
        EscalationFactory.create(conversation__tenant=tenant, sla_due_at=timezone.now() + timedelta(minutes=30 + i))
        for i in range(20)
    ]
    moving = escalations[9]
    customers = listening(tenant)
    # when their escalation becomes urgent (a security problem)
    with escalation_rows_read() as rows, django_capture_on_commit_callbacks(execute=True):
        raised = escalation_raise(tenant=tenant, conversation_id=moving.conversation_id, hits=[SECURITY])
    # then they are first (told on the channel too), and only the nine they overtook are told they moved
    # back one place
    places = line(tenant)
    assert raised.frame["position"] == 1 == places[moving.conversation_id]
    assert told(customers) == {e.conversation_id: places[e.conversation_id] for e in escalations[:10]}
    assert {places[e.conversation_id] for e in escalations[:9]} == set(range(2, 11))
    assert sum(rows) < 9 + 10, rows


def test_a_claim_tells_and_reads_only_those_behind_the_claimed_customer(
    tenant: Tenant, agent: User, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    # given a line of thirty
    escalations = [
        EscalationFactory.create(conversation__tenant=tenant, sla_due_at=timezone.now() + timedelta(minutes=30 + i))
        for i in range(30)
    ]
    customers = listening(tenant)
    # when an agent claims the twentieth
    with escalation_rows_read() as rows, django_capture_on_commit_callbacks(execute=True):
        escalation_claim(tenant=tenant, escalation_id=escalations[19].pk, actor=agent)
    # then the ten behind move up one place and are told so; those ahead hear nothing
    places = line(tenant)
    assert told(customers) == {e.conversation_id: places[e.conversation_id] for e in escalations[20:]}
    assert {places[e.conversation_id] for e in escalations[20:]} == set(range(20, 30))
    assert sum(rows) < 10 + 10, rows


def test_claiming_a_claimed_or_ticket_escalation_moves_nobody(
    tenant: Tenant, agent: User, owner: User, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    line_ = waiting(tenant, 3, priority=Priority.MEDIUM, due_in=timedelta(minutes=5))
    ticket = EscalationFactory.create(conversation__tenant=tenant, mode=Mode.TICKET)
    escalation_claim(tenant=tenant, escalation_id=line_[0].pk, actor=agent)
    customers = listening(tenant)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        escalation_claim(tenant=tenant, escalation_id=ticket.pk, actor=agent)
        escalation_assign(tenant=tenant, escalation_id=line_[0].pk, actor=owner, assignee=owner)
    assert callbacks == [] and told(customers) == {}


def test_a_place_is_counted_in_its_own_tenant_only(tenant: Tenant, other_tenant: Tenant) -> None:
    ours = waiting(tenant, 2, priority=Priority.LOW, due_in=timedelta(minutes=5))
    waiting(other_tenant, 5, priority=Priority.HIGH, due_in=timedelta(minutes=1))
    assert [waiting_position(tenant=tenant, escalation=e) for e in ours] == [1, 2]
    assert waiting_position(tenant=other_tenant, escalation=ours[0]) is None


def test_a_place_in_line_is_counted_through_the_waiting_line_index(tenant: Tenant, other_tenant: Tenant) -> None:
    # given a line, in a table mostly of escalations not waiting (claimed, tickets, another tenant's)
    line_ = waiting(tenant, 50, priority=Priority.MEDIUM, due_in=timedelta(minutes=5))
    EscalationFactory.create_batch(100, conversation__tenant=tenant, status=Status.ACKNOWLEDGED)
    EscalationFactory.create_batch(100, conversation__tenant=tenant, mode=Mode.TICKET)
    EscalationFactory.create_batch(100, conversation__tenant=other_tenant)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {ESCALATION_TABLE}")
    # and the query that counts who is ahead of a customer
    with CaptureQueriesContext(connection) as run:
        waiting_position(tenant=tenant, escalation=line_[-1])
    (count,) = [q["sql"] for q in run.captured_queries if q["sql"].startswith("SELECT COUNT")]
    # when PostgreSQL plans it
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {count}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    # then it reads the partial index of the waiting line
    assert "escalation_waiting_line" in plan, plan


def _production_shaped(tenant: Tenant, other_tenant: Tenant) -> list[Escalation]:
    """A short waiting line in a table mostly of closed escalations (as in production: every handoff ends
    resolved), with some claimed, some tickets, another tenant's line and its many open out-of-hours
    tickets; ANALYZEd, so the planner plans with the table's real shape."""
    line_ = waiting(tenant, 30, priority=Priority.MEDIUM, due_in=timedelta(minutes=5))
    waiting(other_tenant, 30, priority=Priority.HIGH, due_in=timedelta(minutes=1))
    EscalationFactory.create_batch(40, conversation__tenant=tenant, status=Status.ACKNOWLEDGED)
    EscalationFactory.create_batch(40, conversation__tenant=tenant, mode=Mode.TICKET)
    for owner in (tenant, other_tenant):
        conversation = ConversationFactory.create(tenant=owner)
        closed = EscalationFactory.build_batch(3000, conversation=conversation, status=Status.RESOLVED)
        Escalation.objects.bulk_create(closed)
    conversations = Conversation.objects.bulk_create(ConversationFactory.build_batch(1000, tenant=other_tenant))
    Escalation.objects.bulk_create(EscalationFactory.build(conversation=c, mode=Mode.TICKET) for c in conversations)
    escalation_raise(tenant=tenant, conversation_id=ConversationFactory.create(tenant=tenant).pk, hits=[HUMAN])
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {ESCALATION_TABLE}")
        cursor.execute('ANALYZE "escalations_waitingline"')
    return line_


def _plan_of(read: Callable[[], Any], *, marker: str) -> str:
    with CaptureQueriesContext(connection) as run:
        read()
    (sql,) = [q["sql"] for q in run.captured_queries if marker in q["sql"] and "COUNT" in q["sql"]]
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.parametrize("reader", ["place_with_version", "places_between"])
def test_a_place_read_with_the_lines_version_counts_through_the_waiting_line_index(
    tenant: Tenant, other_tenant: Tenant, reader: str
) -> None:
    # given a production-shaped table, and the one statement that reads a place with the line's version
    # (the frame on reconnect; a teller's places after a change)
    line_ = _production_shaped(tenant, other_tenant)
    reads: dict[str, Callable[[], Any]] = {
        "place_with_version": lambda: place_with_version(tenant=tenant, escalation=line_[-1]),
        "places_between": lambda: places_between(tenant=tenant, after=QueueKey.of(line_[-3])),
    }
    # when PostgreSQL plans it
    plan = _plan_of(reads[reader], marker="version")
    # then it reads the escalations through the waiting line's partial index, never the whole table
    assert "escalation_waiting_line" in plan, plan
    assert "Seq Scan on escalations_escalation" not in plan, plan


def _escalation_index_reads(plan: str) -> list[str]:
    """Each index scan of escalations in the plan, with the line of its index condition (if any)."""
    lines = [line.strip() for line in plan.splitlines()]
    reads = []
    for number, text in enumerate(lines):
        if "Index Scan on escalation_" in text or ("Index" in text and " on escalations_escalation" in text):
            condition = next((line for line in lines[number + 1 : number + 3] if line.startswith("Index Cond")), "")
            reads.append(f"{text} | {condition}")
    return reads


@pytest.mark.parametrize("including_after", [False, True])
@pytest.mark.parametrize("where", ["front", "middle", "back"])
def test_the_places_behind_a_change_are_read_through_an_index_of_the_tenant_only(
    tenant: Tenant, other_tenant: Tenant, where: str, including_after: bool
) -> None:
    # given a production-shaped table where another tenant's many open tickets fill the index of every
    # tenant's open escalations, and PostgreSQL's statistics of it
    _production_shaped(tenant, other_tenant)
    queue = list(escalation_queue(tenant=tenant).filter(status=Status.PENDING, mode=Mode.LIVE))
    after = QueueKey.of(queue[{"front": 0, "middle": len(queue) // 2, "back": -2}[where]])

    # when PostgreSQL plans the teller's read of the places behind a change
    def read() -> Any:
        return places_between(tenant=tenant, after=after, including_after=including_after)

    plan = _plan_of(read, marker="version")
    # then every read of escalations is an index range of this tenant's, never every tenant's open ones
    reads = _escalation_index_reads(plan)
    assert reads and all(re.search(r"Index Cond: \(+tenant_id = \d+\)", scan) for scan in reads), plan
    assert "Seq Scan on escalations_escalation" not in plan, plan
    # and the places are those counted afresh over the whole line, this tenant's only
    reference = line(tenant)
    start = next(n for n, e in enumerate(queue) if QueueKey.of(e) == after) + (0 if including_after else 1)
    places = read()
    assert [(place, row.conversation_id) for place, _, row in places] == [
        (reference[e.conversation_id], e.conversation_id) for e in queue[start:]
    ]
    assert all(row.tenant_id == tenant.pk for _, _, row in places)
