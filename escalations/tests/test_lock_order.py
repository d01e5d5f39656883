"""A customer's raise and a staff change to the same escalation, on their own threads and connections,
take the conversation's and the escalation's row locks in one order: whichever waits for the other, both
commit, never one of them ended by PostgreSQL as a deadlock."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache

from escalations.models import Escalation, Status
from escalations.staff import agent_reply, escalation_claim, escalation_resolve
from escalations.tests.conftest import ALWAYS, set_hours
from escalations.tests.test_queue_positions_concurrency import SECURITY, WAIT_SECONDS, Change, Worker, raising, waiting
from supportai.models import Tenant

pytestmark = pytest.mark.django_db(transaction=True)  # each change commits on its own connection


@dataclass
class AfterConversationLock:
    """An execute wrapper that holds a raise once it has locked its conversation's row, before it reads
    (and locks) the conversation's open escalation, until ``resume`` is set."""

    locked: threading.Event = field(default_factory=threading.Event)
    resume: threading.Event = field(default_factory=threading.Event)

    def __call__(self, execute: Callable[..., object], sql: str, params: object, many: bool, context: object) -> object:
        result = execute(sql, params, many, context)
        first_lock = not self.locked.is_set() and "FOR UPDATE" in sql
        if first_lock and 'FROM "chat_conversation"' in sql and '"escalations_escalation"' not in sql:
            self.locked.set()
            assert self.resume.wait(WAIT_SECONDS)
        return result


StaffChange = Callable[[Tenant, Escalation, User], Change]


def claiming(tenant: Tenant, escalation: Escalation, agent: User) -> Change:
    return lambda: escalation_claim(tenant=tenant, escalation_id=escalation.pk, actor=agent)


def replying(tenant: Tenant, escalation: Escalation, agent: User) -> Change:
    return lambda: agent_reply(tenant=tenant, escalation_id=escalation.pk, actor=agent, text="I'm here").publications


def resolving(tenant: Tenant, escalation: Escalation, agent: User) -> Change:
    return lambda: escalation_resolve(tenant=tenant, escalation_id=escalation.pk, actor=agent, notes="sorted")


@pytest.mark.parametrize("staff_change", [claiming, replying, resolving])
def test_a_customer_asking_again_as_staff_take_their_escalation_both_commit(
    tenant: Tenant, other_tenant: Tenant, agent: User, staff_change: StaffChange
) -> None:
    # given a customer waiting in line whose raise again (an urgent message) has locked their conversation
    cache.clear()
    set_hours(tenant, ALWAYS)
    target, _behind = waiting(tenant, 2)
    (foreign,) = waiting(other_tenant, 1)
    foreign_before = (foreign.status, foreign.priority)
    released = threading.Event()
    released.set()
    pause = AfterConversationLock()
    customer = Worker(raising(tenant, target.conversation_id, SECURITY), released, pause=pause)
    staff = Worker(staff_change(tenant, target, agent), released)
    threads = [threading.Thread(target=customer.run), threading.Thread(target=staff.run)]
    threads[0].start()
    try:
        assert pause.locked.wait(WAIT_SECONDS)
        # when staff take the escalation meanwhile (waiting for the customer's lock, or done)
        threads[1].start()
        deadline = time.monotonic() + WAIT_SECONDS
        while not (staff.outcomes or staff.errors or staff.waiting_for_a_lock()) and time.monotonic() < deadline:
            time.sleep(0.005)
    finally:
        pause.resume.set()
        for thread in threads:
            thread.join(WAIT_SECONDS)
    # then both commit, one after the other
    assert customer.errors == [] and staff.errors == []
    assert len(customer.outcomes) == 1 and len(staff.outcomes) == 1
    target.refresh_from_db()
    assert target.priority == "high"
    assert target.status in (Status.ACKNOWLEDGED, Status.RESOLVED)
    # and the other tenant's customer is still waiting, untouched
    foreign.refresh_from_db()
    assert (foreign.status, foreign.priority) == foreign_before
