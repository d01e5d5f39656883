from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

from routing import budgets, registry
from routing.config import DEFAULT_TIERS, LOCAL_TIER
from routing.models import BudgetAlert, CostEvent, CostSummary
from routing.providers.base import Usage
from routing.providers.fake import ScriptedProvider
from routing.router import CallRecord
from routing.services import cost_events_record, plan_tiers, turn_complete
from routing.tasks import rollup_costs
from routing.tests.factories import request_for
from supportai.models import Tenant
from supportai.tests.factories import UserFactory


def _spend(tenant, amount: str, **kwargs) -> CostEvent:
    defaults = dict(provider="openai", model="gpt-4o-mini", tier=2, outcome="success", cost_usd=Decimal(amount))
    defaults.update(kwargs)
    return CostEvent.objects.create(tenant=tenant, **defaults)


@pytest.fixture
def all_keys(settings):
    settings.GEMINI_API_KEY = settings.OPENAI_API_KEY = settings.ANTHROPIC_API_KEY = "k"
    fakes = {name: ScriptedProvider(name=name) for name in ("gemini", "openai", "anthropic")}
    with registry.override_providers(fakes):
        yield


@pytest.mark.django_db
def test_budget_soft_limit_raises_one_alert_and_downgrades_tiers(tenant, other_tenant, all_keys):
    # given 85% of a $10 budget spent this month
    tenant.monthly_llm_budget_usd = Decimal("10")
    tenant.save()
    _spend(tenant, "8.50")
    _spend(other_tenant, "100")

    state = budgets.budget_state(tenant=tenant)
    budgets.budget_state(tenant=tenant)

    assert state.level == budgets.SOFT
    assert state.spent_usd == Decimal("8.50")
    assert list(BudgetAlert.objects.for_tenant(tenant).values_list("level", flat=True)) == ["soft"]
    plan = plan_tiers(DEFAULT_TIERS, start_tier=3, budget_level=state.level)
    assert [t.tier for t in plan] == [2]


@pytest.mark.django_db(transaction=True)  # turn_complete runs its database work on the pool
def test_budget_hard_limit_answers_locally_and_says_so(tenant, all_keys):
    tenant.monthly_llm_budget_usd = Decimal("1")
    tenant.save()
    _spend(tenant, "1.20")

    result = turn_complete(tenant=tenant, request=request_for("When are you open on weekends?"))

    assert result.provider == "local"
    assert result.outcome == "budget_limited"
    assert BudgetAlert.objects.for_tenant(tenant).filter(level="hard").exists()


@pytest.mark.django_db
def test_budget_ignores_last_months_spend(tenant):
    _spend(tenant, "1000", created_at=timezone.now() - timedelta(days=40))

    assert budgets.budget_state(tenant=tenant).level == budgets.OK


def test_plan_tiers_without_keys_is_local_only(settings):
    settings.GEMINI_API_KEY = settings.OPENAI_API_KEY = settings.ANTHROPIC_API_KEY = ""

    assert plan_tiers(DEFAULT_TIERS, start_tier=1, budget_level=budgets.OK) == (LOCAL_TIER,)


def test_plan_tiers_skips_unavailable_tiers_upwards_then_downwards(settings):
    settings.GEMINI_API_KEY, settings.OPENAI_API_KEY, settings.ANTHROPIC_API_KEY = "k", "", ""
    fakes = {"gemini": ScriptedProvider(name="gemini")}
    with registry.override_providers(fakes):
        assert [t.provider for t in plan_tiers(DEFAULT_TIERS, start_tier=2, budget_level=budgets.OK)] == ["gemini"]
        assert [t.tier for t in plan_tiers(DEFAULT_TIERS, start_tier=1, budget_level=budgets.OK)] == [1]


@pytest.mark.django_db
def test_rollup_task_builds_daily_summaries_idempotently(tenant, other_tenant):
    yesterday = timezone.now() - timedelta(days=1)
    _spend(tenant, "0.10", created_at=yesterday, cached_tokens=1024, cache_write_tokens=300)
    _spend(tenant, "0.20", created_at=yesterday, cache_write_tokens=200)
    _spend(tenant, "0.00", created_at=yesterday, outcome="error")
    _spend(other_tenant, "1.00", created_at=yesterday, provider="anthropic", model="claude-sonnet-4-5", tier=3,
           cache_write_tokens=5000)  # fmt: skip

    rollup_costs.delay()
    rollup_costs()

    row = CostSummary.objects.for_tenant(tenant).get()
    assert (row.day, row.calls, row.errors, row.cost_usd) == (yesterday.date(), 3, 1, Decimal("0.30"))
    assert (row.cached_tokens, row.cache_write_tokens) == (1024, 500)
    assert CostSummary.objects.for_tenant(other_tenant).get().tier == 3


@pytest.mark.django_db
def test_admin_cost_summary_shows_spend_of_own_tenant_only(tenant, other_tenant, owner):
    today = timezone.now().date()
    CostSummary.objects.create(tenant=tenant, day=today, tier=1, provider="gemini", model="gemini-2.0-flash",
                               calls=5, cost_usd=Decimal("0.0123"))  # fmt: skip
    CostSummary.objects.create(tenant=other_tenant, day=today, tier=3, provider="anthropic", model="secret-model",
                               calls=1, cost_usd=Decimal("9"))  # fmt: skip
    client = Client()
    client.force_login(owner)

    response = client.get("/admin/routing/costsummary/")

    assert response.status_code == 200
    body = response.content.decode()
    assert "Spend for the rows above" in body
    assert "gemini-2.0-flash" in body
    assert "secret-model" not in body


@pytest.mark.django_db
def test_admin_routing_pages_load_for_a_superuser(tenant):
    event = _spend(tenant, "0.01", cache_write_tokens=300)
    client = Client()
    client.force_login(UserFactory.create(username="root", is_staff=True, is_superuser=True))

    for path in ("costevent", "costsummary", "modelconfig", "promptversion", "guardrailevent", "budgetalert"):
        assert client.get(f"/admin/routing/{path}/").status_code == 200, path
    assert "Cache write tokens" in client.get(f"/admin/routing/costevent/{event.pk}/change/").content.decode()


@pytest.mark.django_db
def test_month_spend_is_cached_for_free_turns_and_refreshed_by_paid_ones(
    tenant, django_assert_num_queries, django_capture_on_commit_callbacks
):
    # given a tenant whose spend was just read (and cached)
    tenant.monthly_llm_budget_usd = Decimal("10")
    tenant.save()
    budgets.budget_state(tenant=tenant)
    local_call = CallRecord(1, "local", "local", "answer", "success", Usage(50, 10), 1.0)
    paid_call = CallRecord(2, "openai", "gpt-4o", "answer", "success", Usage(2_000_000, 340_000), 900.0)
    # when a free turn is recorded, the next read is served from the cache
    cost_events_record(
        tenant=tenant, request=request_for("hi"), calls=(local_call,), fallback=False, prompt_version_id=None
    )
    with django_assert_num_queries(0):
        assert budgets.month_spend(tenant=tenant, month=budgets.month_start()) == Decimal("0")
    # when a paid turn is recorded, the limit reacts on the very next turn
    with django_capture_on_commit_callbacks(execute=True):
        cost_events_record(
            tenant=tenant, request=request_for("hi"), calls=(paid_call,), fallback=False, prompt_version_id=None
        )
    state = budgets.budget_state(tenant=tenant)
    assert state.spent_usd == Decimal("8.4") and state.level == budgets.SOFT


PAID_CALL = CallRecord(2, "openai", "gpt-4o", "answer", "success", Usage(2_000_000, 340_000), 900.0)  # $8.40


def _read_spend_elsewhere(tenant) -> Decimal:
    """Month-to-date spend as another worker reads it: its own thread and database connection."""
    spent: list[Decimal] = []

    def read() -> None:
        try:
            spent.append(budgets.month_spend(tenant=tenant, month=budgets.month_start()))
        finally:
            connection.close()

    reader = threading.Thread(target=read)
    reader.start()
    reader.join()
    return spent[0]


@pytest.mark.django_db(transaction=True)
def test_month_spend_read_while_a_cost_is_being_recorded_is_not_kept_after_commit(tenant, other_tenant):
    # given a paid turn being recorded, not committed yet
    with transaction.atomic():
        cost_events_record(
            tenant=tenant, request=request_for("hi"), calls=(PAID_CALL,), fallback=False, prompt_version_id=None
        )
        # when another worker reads (and caches) the spend before the commit
        assert _read_spend_elsewhere(tenant) == Decimal("0")
    # then the committed cost counts on the very next read
    assert budgets.month_spend(tenant=tenant, month=budgets.month_start()) == Decimal("8.4")
    assert budgets.month_spend(tenant=other_tenant, month=budgets.month_start()) == Decimal("0")


@pytest.mark.django_db
def test_month_spend_summed_before_a_cost_cannot_be_cached_over_it(tenant, django_capture_on_commit_callbacks):
    # given a reader that took its cache slot, and summed $0, before a paid turn was recorded
    month = budgets.month_start()
    stale_slot = budgets._spend_cache_key(tenant.pk, month)
    with django_capture_on_commit_callbacks(execute=True):
        cost_events_record(
            tenant=tenant, request=request_for("hi"), calls=(PAID_CALL,), fallback=False, prompt_version_id=None
        )
    # when that reader stores its stale sum after the paid turn dropped the cached spend
    cache.set(stale_slot, "0", budgets.SPEND_CACHE_SECONDS)
    # then readers still see the new total
    assert budgets.month_spend(tenant=tenant, month=month) == Decimal("8.4")


@pytest.mark.django_db
def test_budget_state_reads_the_current_budget_not_the_one_loaded_with_the_tenant(
    tenant, other_tenant, django_assert_num_queries
):
    # given a tenant loaded when a conversation's socket connected, and $2 spent this month
    connected = Tenant.objects.get(pk=tenant.pk)
    _spend(tenant, "2")
    assert budgets.budget_state(tenant=connected).level == budgets.OK
    # when an admin lowers the budget to $1 (and the other tenant's to $0)
    Tenant.objects.filter(pk=tenant.pk).update(monthly_llm_budget_usd=Decimal("1"))
    Tenant.objects.filter(pk=other_tenant.pk).update(monthly_llm_budget_usd=Decimal("0"))
    # then the next turn on the open connection is over the limit
    state = budgets.budget_state(tenant=connected)
    assert (state.level, state.budget_usd, state.spent_usd) == (budgets.HARD, Decimal("1"), Decimal("2"))
    # and a turn costs one query for the budget while the spend is cached (plus the alert check)
    with django_assert_num_queries(2):
        budgets.budget_state(tenant=connected)
    other = budgets.budget_state(tenant=other_tenant)
    assert (other.budget_usd, other.spent_usd) == (Decimal("0"), Decimal("0"))
