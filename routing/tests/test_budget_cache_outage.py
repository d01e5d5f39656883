"""The month's LLM spend while the shared cache (Redis) is down: summed from the ledger, and a paid
turn's cost is recorded whatever the cache does (docs/architecture.md, "When the shared cache fails")."""

from __future__ import annotations

from decimal import Decimal

import pytest

from routing import budgets
from routing.models import CostEvent
from routing.providers.base import Usage
from routing.router import CallRecord
from routing.services import cost_events_record
from routing.tests.factories import request_for
from supportai.models import Tenant
from supportai.tests.throwaway_redis import ThrowawayRedis

pytestmark = [pytest.mark.redis, pytest.mark.django_db]
PAID_CALL = CallRecord(2, "openai", "gpt-4o", "answer", "success", Usage(2_000_000, 340_000), 900.0)  # $8.40


def test_a_paid_turn_is_recorded_and_counted_while_the_cache_is_down(
    throwaway_cache: ThrowawayRedis, tenant: Tenant, other_tenant: Tenant, django_capture_on_commit_callbacks
) -> None:
    # given a $10 budget, another tenant's spend, and the cache's Redis gone
    tenant.monthly_llm_budget_usd = Decimal("10")
    tenant.save()
    CostEvent.objects.create(tenant=other_tenant, provider="openai", model="gpt-4o", tier=2, cost_usd=Decimal("50"))
    throwaway_cache.stop()
    # when a paid turn is recorded (its commit would start a new cache generation)
    with django_capture_on_commit_callbacks(execute=True):
        cost_events_record(
            tenant=tenant, request=request_for("hi"), calls=(PAID_CALL,), fallback=False, prompt_version_id=None
        )
    # then its cost is stored, and the limit reads the ledger's exact total, this tenant's only
    assert CostEvent.objects.for_tenant(tenant).get().cost_usd == Decimal("8.4")
    state = budgets.budget_state(tenant=tenant)
    assert state.spent_usd == Decimal("8.4") and state.level == budgets.SOFT
