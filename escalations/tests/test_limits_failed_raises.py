"""The hourly escalation limit counts escalations opened, not attempts: a raise that fails in the database
(its insert, or its commit) or is refused gives its slot back, and a burst of raises at once still opens
no more than the limit. Real database and cache: the failures are Postgres triggers on the real table."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.db import OperationalError, connection

from escalations.models import Escalation
from escalations.notifications import dispatch
from escalations.services import RATE_LIMITED, EscalationError, escalation_raise
from escalations.staff import escalation_resolve
from escalations.tests.conftest import ALWAYS, set_hours
from escalations.tests.factories import ConversationFactory
from escalations.triggers import ReasonCode, TriggerHit
from supportai.models import Tenant

pytestmark = pytest.mark.django_db(transaction=True)  # the raise's own transaction commits (or fails to)
HUMAN = TriggerHit(ReasonCode.HUMAN_REQUEST, "talk to a human")
IP = "203.0.113.7"
OTHER_IP = "198.51.100.7"
# A serialization failure (SQLSTATE 40001): the transient error a retry would get past.
FAIL_FUNCTION = """
CREATE OR REPLACE FUNCTION test_escalation_write_fails() RETURNS trigger AS $$
BEGIN RAISE EXCEPTION 'injected failure' USING ERRCODE = 'serialization_failure'; END
$$ LANGUAGE plpgsql
"""
ON_INSERT = (
    "CREATE TRIGGER test_escalation_write_fails BEFORE INSERT ON escalations_escalation "
    "FOR EACH ROW EXECUTE FUNCTION test_escalation_write_fails()"
)
ON_COMMIT = (
    "CREATE CONSTRAINT TRIGGER test_escalation_write_fails AFTER INSERT ON escalations_escalation "
    "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION test_escalation_write_fails()"
)


@pytest.fixture(autouse=True)
def _open_with_one_an_hour(tenant: Tenant, settings: Any) -> None:
    cache.clear()
    set_hours(tenant, ALWAYS)
    settings.ESCALATIONS_PER_HOUR = 1


class WriteFailure:
    """Escalation inserts fail (at the insert, or at commit) while ``failing`` is entered."""

    def __init__(self, trigger: str) -> None:
        self.trigger = trigger

    def __enter__(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(FAIL_FUNCTION)
            cursor.execute(self.trigger)

    def __exit__(self, *exc: object) -> None:
        with connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER IF EXISTS test_escalation_write_fails ON escalations_escalation")
            cursor.execute("DROP FUNCTION IF EXISTS test_escalation_write_fails()")


@pytest.fixture
def no_trigger_left() -> Iterator[None]:
    yield
    WriteFailure("").__exit__()  # a failed test must not leave the trigger to the next run (--reuse-db)


@pytest.mark.parametrize("trigger", [ON_INSERT, ON_COMMIT], ids=["insert fails", "commit fails"])
def test_a_raise_that_fails_in_the_database_leaves_the_customer_their_slot(
    tenant: Tenant, trigger: str, no_trigger_left: None
) -> None:
    # given one escalation an hour, and a customer whose raise meets a database error
    conversation = ConversationFactory.create(tenant=tenant)
    with WriteFailure(trigger), pytest.raises(OperationalError):
        escalation_raise(tenant=tenant, conversation_id=conversation.pk, hits=[HUMAN], ip=IP)
    assert not Escalation.objects.exists()
    # when they ask again once the database is back
    raised = escalation_raise(tenant=tenant, conversation_id=conversation.pk, hits=[HUMAN], ip=IP)
    # then they get their escalation, not "you asked too often"
    assert raised.created and Escalation.objects.get().conversation_id == conversation.pk


def test_a_refused_raise_uses_no_slot_of_the_other_limit(tenant: Tenant, agent: Any) -> None:
    # given a customer who used their one escalation of the hour (from one address), since resolved
    regular = ConversationFactory.create(tenant=tenant)
    first = escalation_raise(tenant=tenant, conversation_id=regular.pk, hits=[HUMAN], ip=IP)
    escalation_resolve(tenant=tenant, escalation_id=first.escalation.pk, actor=agent, notes="done")
    # and who asks again from another address: refused, they are over their own limit
    with pytest.raises(EscalationError) as refused:
        escalation_raise(tenant=tenant, conversation_id=regular.pk, hits=[HUMAN], ip=OTHER_IP)
    assert refused.value is RATE_LIMITED
    # when another customer asks for a person from that other address
    newcomer = ConversationFactory.create(tenant=tenant)
    raised = escalation_raise(tenant=tenant, conversation_id=newcomer.pk, hits=[HUMAN], ip=OTHER_IP)
    # then the refusal did not count against the address
    assert raised.created


@pytest.fixture(params=["locmem", "redis"])
def limiter_cache(request: pytest.FixtureRequest) -> None:
    """The counters in this process's memory (development) or in the shared Redis (production)."""
    if request.param == "redis":
        request.getfixturevalue("redis_cache")


def test_a_burst_of_raises_from_one_address_opens_no_more_than_the_limit(
    tenant: Tenant, settings: Any, limiter_cache: None
) -> None:
    # given two escalations an hour, and six customers behind one address pressing the button at once
    settings.ESCALATIONS_PER_HOUR = 2
    conversations = [ConversationFactory.create(tenant=tenant) for _ in range(6)]
    start = threading.Barrier(len(conversations))
    outcomes: list[str] = []

    def press(conversation_id: int) -> None:
        try:
            start.wait(10)
            escalation_raise(tenant=tenant, conversation_id=conversation_id, hits=[HUMAN], ip=IP)
            outcomes.append("opened")
        except EscalationError as exc:
            outcomes.append(exc.code)
        finally:
            connection.close()

    # when they all raise
    threads = [threading.Thread(target=press, args=(conversation.pk,)) for conversation in conversations]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    # then two escalations are opened and the others are told they are rate limited
    assert sorted(outcomes) == ["opened"] * 2 + ["rate_limited"] * 4
    assert Escalation.objects.count() == 2


def test_a_failed_raise_frees_its_slot_and_no_more(tenant: Tenant, settings: Any, no_trigger_left: None) -> None:
    # given two escalations an hour, and one raise that already failed in the database
    settings.ESCALATIONS_PER_HOUR = 2
    unlucky = ConversationFactory.create(tenant=tenant)
    with WriteFailure(ON_COMMIT), pytest.raises(OperationalError):
        escalation_raise(tenant=tenant, conversation_id=unlucky.pk, hits=[HUMAN], ip=IP)
    # when three more customers behind the same address ask
    first, second, third = (ConversationFactory.create(tenant=tenant) for _ in range(3))
    opened = [escalation_raise(tenant=tenant, conversation_id=c.pk, hits=[HUMAN], ip=IP) for c in (first, second)]
    with pytest.raises(EscalationError) as refused:
        escalation_raise(tenant=tenant, conversation_id=third.pk, hits=[HUMAN], ip=IP)
    # then exactly two are opened: the failure freed its slot, and nothing more
    assert all(raised.created for raised in opened) and refused.value is RATE_LIMITED
    assert Escalation.objects.count() == 2


def test_a_raise_that_committed_keeps_its_slot_when_work_after_the_commit_fails(
    tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given one escalation an hour, and the work queued for after the commit (the notification) failing
    def broker_gone(delivery_id: int) -> None:
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(dispatch, "enqueue_delivery", broker_gone)
    set_hours(tenant, ALWAYS, notify_email=True)
    tenant.escalation_email = "team@alpha.example"
    tenant.save()
    first = ConversationFactory.create(tenant=tenant)
    with pytest.raises(ConnectionError):
        escalation_raise(tenant=tenant, conversation_id=first.pk, hits=[HUMAN], ip=IP)
    assert Escalation.objects.filter(conversation=first).exists()  # it committed before the failure
    # when another customer behind the same address asks
    second = ConversationFactory.create(tenant=tenant)
    with pytest.raises(EscalationError) as refused:
        escalation_raise(tenant=tenant, conversation_id=second.pk, hits=[HUMAN], ip=IP)
    # then the committed escalation still counts: the address is over its limit
    assert refused.value is RATE_LIMITED
