"""Two changes to one tenant's waiting line at once (raises, a claim, a close), each on its own thread and
database connection: whatever the interleaving, the last place each waiting customer is told (their own
raise's frame, then what reaches their channel group on the real channel layer) is their place in the
line as committed."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone

from escalations.models import Escalation, Mode, Status
from escalations.realtime import Publication, publish_sync
from escalations.selectors import escalation_queue
from escalations.services import PLACES_LOCK_NAMESPACE, Raised, escalation_raise
from escalations.staff import escalation_claim, escalation_resolve
from escalations.tests.conftest import ALWAYS, set_hours
from escalations.tests.factories import ConversationFactory, EscalationFactory
from escalations.tests.listening import Customers
from escalations.triggers import ReasonCode, TriggerHit
from supportai.models import Tenant

pytestmark = pytest.mark.django_db(transaction=True)  # each change commits on its own connection
HUMAN = TriggerHit(ReasonCode.HUMAN_REQUEST, "talk to a human")
SECURITY = TriggerHit(ReasonCode.SECURITY, "my account was hacked")
OUTAGE = TriggerHit(ReasonCode.OUTAGE, "the site is down")
WAIT_SECONDS = 20

Outcome = Raised | list[Publication]
Change = Callable[[], Outcome]


@dataclass
class TellerPause:
    """An execute wrapper that holds the teller of a change's places after its first read of the line (the
    statement after it takes its turn) until ``resume`` is set, so another change can commit meanwhile."""

    read: threading.Event = field(default_factory=threading.Event)
    resume: threading.Event = field(default_factory=threading.Event)
    turn_taken: bool = False

    def __call__(self, execute: Callable[..., object], sql: str, params: object, many: bool, context: object) -> object:
        result = execute(sql, params, many, context)
        if self.turn_taken and not self.read.is_set():
            self.read.set()
            assert self.resume.wait(WAIT_SECONDS)
        if "pg_advisory_xact_lock" in sql and isinstance(params, list) and params[0] == PLACES_LOCK_NAMESPACE:
            self.turn_taken = True
        return result


@pytest.fixture(autouse=True)
def _open_and_unlimited(tenant: Tenant, other_tenant: Tenant) -> None:
    cache.clear()  # the per-tenant raise limits
    set_hours(tenant, ALWAYS)
    set_hours(other_tenant, ALWAYS)


def line(tenant: Tenant) -> dict[int, int]:
    """Conversation id → place in line, counted afresh over the committed line (the reference)."""
    rows = escalation_queue(tenant=tenant).filter(status=Status.PENDING, mode=Mode.LIVE)
    return {row.conversation_id: place for place, row in enumerate(rows, start=1)}


def waiting(tenant: Tenant, count: int) -> list[Escalation]:
    """A line of ``count`` customers, due a minute apart."""
    return [
        EscalationFactory.create(conversation__tenant=tenant, sla_due_at=timezone.now() + timedelta(minutes=30 + i))
        for i in range(count)
    ]


@dataclass
class Worker:
    """One change on its own thread and connection, held open (made, not committed) until released."""

    change: Change
    release: threading.Event
    arrived: threading.Event = field(default_factory=threading.Event)
    pids: list[int] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)
    pause: Callable[..., object] | None = None  # an execute wrapper (TellerPause, say)

    def run(self) -> None:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                self.pids.append(cursor.fetchone()[0])
            with connection.execute_wrapper(self.pause) if self.pause else nullcontext():
                self.outcomes.append(self._committed())
        except BaseException as exc:  # reported by the test's thread
            self.errors.append(exc)
        finally:
            connection.close()  # the thread's own connection, before the test database goes away

    def _committed(self) -> Outcome:
        with transaction.atomic():
            outcome = self.change()
            self.arrived.set()
            assert self.release.wait(WAIT_SECONDS)
        # as its caller does, once committed
        publish_sync(outcome.publications if isinstance(outcome, Raised) else outcome)
        return outcome

    def held_or_waiting(self) -> bool:
        """Made and held, failed, or waiting for a lock (another change holds it)."""
        return self.arrived.is_set() or bool(self.errors) or self.waiting_for_a_lock()

    def waiting_for_a_lock(self) -> bool:
        if not self.pids:
            return False
        with connection.cursor() as cursor:
            cursor.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [self.pids[0]])
            row = cursor.fetchone()
        return row is not None and row[0] == "Lock"


def at_once(*changes: Change, interleave: bool = True) -> list[Outcome]:
    """Run the changes on their own threads. ``interleave``: each is held uncommitted once made until every
    other one is made too (or waits for a lock one holds), so none sees another's rows; then all commit."""
    release = threading.Event()
    if not interleave:
        release.set()
    workers = [Worker(change, release) for change in changes]
    threads = [threading.Thread(target=worker.run) for worker in workers]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + WAIT_SECONDS
    while not all(worker.held_or_waiting() for worker in workers) and time.monotonic() < deadline:
        time.sleep(0.005)
    release.set()
    for thread in threads:
        thread.join(WAIT_SECONDS)
    for worker in workers:
        if worker.errors:
            raise worker.errors[0]
    return [outcome for worker in workers for outcome in worker.outcomes]


def raising(tenant: Tenant, conversation_id: int, hit: TriggerHit) -> Change:
    return lambda: escalation_raise(tenant=tenant, conversation_id=conversation_id, hits=[hit])


def last_places_told(customers: Customers, before: dict[int, int], outcomes: list[Outcome]) -> dict[int, int | None]:
    """The last place each customer heard: their place before, then their own raise's frame (counted before
    it committed), then what reached their conversation's group."""
    last: dict[int, int | None] = dict(before)
    for outcome in outcomes:
        if isinstance(outcome, Raised):
            last[outcome.escalation.conversation_id] = outcome.frame["position"]
    for conversation_id, told in customers.places_told().items():
        last[conversation_id] = told[-1]
    return last


def assert_everyone_waiting_told_their_committed_place(tenant: Tenant, told: dict[int, int | None]) -> None:
    committed = line(tenant)
    assert {conversation_id: told.get(conversation_id) for conversation_id in committed} == committed


Scenario = Callable[[Tenant, list[Escalation], User], tuple[list[int], list[Change]]]


def two_urgent_raises(tenant: Tenant, queue: list[Escalation], agent: User) -> tuple[list[int], list[Change]]:
    first, second = ConversationFactory.create(tenant=tenant), ConversationFactory.create(tenant=tenant)
    return [first.pk, second.pk], [raising(tenant, first.pk, SECURITY), raising(tenant, second.pk, OUTAGE)]


def a_raise_at_the_back_and_a_claim(
    tenant: Tenant, queue: list[Escalation], agent: User
) -> tuple[list[int], list[Change]]:
    newcomer = ConversationFactory.create(tenant=tenant)
    claim = queue[0].pk
    return [newcomer.pk], [
        raising(tenant, newcomer.pk, HUMAN),
        lambda: escalation_claim(tenant=tenant, escalation_id=claim, actor=agent),
    ]


def a_raise_moving_up_and_a_close(
    tenant: Tenant, queue: list[Escalation], agent: User
) -> tuple[list[int], list[Change]]:
    resolved = queue[0].pk
    return [], [
        raising(tenant, queue[-1].conversation_id, SECURITY),
        lambda: escalation_resolve(tenant=tenant, escalation_id=resolved, actor=agent, notes="sorted"),
    ]


@pytest.mark.parametrize(
    "scenario", [two_urgent_raises, a_raise_at_the_back_and_a_claim, a_raise_moving_up_and_a_close]
)
def test_changes_made_at_once_leave_every_customer_told_their_committed_place(
    tenant: Tenant, other_tenant: Tenant, agent: User, scenario: Scenario
) -> None:
    # given a line of four, and a customer waiting in another tenant's line
    queue = waiting(tenant, 4)
    (foreign,) = waiting(other_tenant, 1)
    newcomers, changes = scenario(tenant, queue, agent)
    customers = Customers()
    customers.listen(*(e.conversation_id for e in queue), *newcomers, foreign.conversation_id)
    before = line(tenant)
    # when two changes are made at once, neither seeing the other's uncommitted rows
    outcomes = at_once(*changes)
    # then every customer still waiting was last told their place in the committed line
    told = last_places_told(customers, before, outcomes)
    assert_everyone_waiting_told_their_committed_place(tenant, told)
    # and the other tenant's customer heard nothing
    assert foreign.conversation_id not in told


def test_changes_racing_freely_round_after_round_leave_every_customer_told_their_place(
    tenant: Tenant, agent: User
) -> None:
    # given a line of four
    waiting(tenant, 4)
    customers = Customers()
    for _ in range(8):
        queue = list(escalation_queue(tenant=tenant).filter(status=Status.PENDING, mode=Mode.LIVE))
        urgent, newcomer = ConversationFactory.create(tenant=tenant), ConversationFactory.create(tenant=tenant)
        customers.listen(*(e.conversation_id for e in queue), urgent.pk, newcomer.pk)
        before = line(tenant)
        # when an urgent customer, a customer at the back, the last one moving up and a claim of the head
        # race each other
        outcomes = at_once(
            raising(tenant, urgent.pk, SECURITY),
            raising(tenant, newcomer.pk, HUMAN),
            raising(tenant, queue[-1].conversation_id, OUTAGE),
            partial(escalation_claim, tenant=tenant, escalation_id=queue[0].pk, actor=agent),
            interleave=False,
        )
        # then everyone still waiting was last told their committed place
        assert_everyone_waiting_told_their_committed_place(tenant, last_places_told(customers, before, outcomes))


def test_a_change_committed_while_places_are_read_leaves_those_behind_told_their_place(tenant: Tenant) -> None:
    # given a line of five, and an urgent customer whose places are being told: the line was read, then held
    queue = waiting(tenant, 5)
    urgent = ConversationFactory.create(tenant=tenant)
    customers = Customers()
    customers.listen(*(e.conversation_id for e in queue), urgent.pk)
    before = line(tenant)
    released, pause = threading.Event(), TellerPause()
    released.set()
    told_first = Worker(raising(tenant, urgent.pk, SECURITY), released, pause=pause)
    meanwhile = Worker(raising(tenant, queue[-2].conversation_id, OUTAGE), released)
    threads = [threading.Thread(target=told_first.run), threading.Thread(target=meanwhile.run)]
    threads[0].start()
    try:
        assert pause.read.wait(WAIT_SECONDS)
        # when the one before last moves up meanwhile, committed, and waits for its turn to tell places
        threads[1].start()
        deadline = time.monotonic() + WAIT_SECONDS
        while not (committed_meanwhile := meanwhile.waiting_for_a_lock()) and time.monotonic() < deadline:
            time.sleep(0.005)
    finally:
        pause.resume.set()
        for thread in threads:
            thread.join(WAIT_SECONDS)
    assert told_first.errors == meanwhile.errors == []
    assert committed_meanwhile
    # then the one at the back, behind where it moved from, was last told their committed place too
    told = last_places_told(customers, before, [*told_first.outcomes, *meanwhile.outcomes])
    assert_everyone_waiting_told_their_committed_place(tenant, told)


def test_a_change_in_one_tenants_line_does_not_wait_for_another_tenants(tenant: Tenant, other_tenant: Tenant) -> None:
    # given a raise in the tenant's line, made and not committed yet
    ours, theirs = ConversationFactory.create(tenant=tenant), ConversationFactory.create(tenant=other_tenant)
    release, released = threading.Event(), threading.Event()
    released.set()
    held, meanwhile = (
        Worker(raising(tenant, ours.pk, HUMAN), release),
        Worker(raising(other_tenant, theirs.pk, HUMAN), released),
    )
    threads = [threading.Thread(target=held.run), threading.Thread(target=meanwhile.run)]
    threads[0].start()
    try:
        assert held.arrived.wait(WAIT_SECONDS)
        # when another tenant's customer joins their line meanwhile
        threads[1].start()
        threads[1].join(WAIT_SECONDS / 4)
        joined_meanwhile = not threads[1].is_alive()
    finally:
        release.set()
        for thread in threads:
            thread.join(WAIT_SECONDS)
    # then they joined without waiting, first in their own line
    assert joined_meanwhile
    assert held.errors == meanwhile.errors == []
    (raised,) = meanwhile.outcomes
    assert isinstance(raised, Raised) and raised.frame["position"] == 1
