"""Default models per tier, retired model IDs, and what happens to tenant rows that name one."""

from __future__ import annotations

import importlib
from datetime import date
from decimal import Decimal

import pytest
from django.apps import apps as global_apps
from django.core.checks import WARNING, Warning, run_checks
from django.core.exceptions import ValidationError

from routing.config import DEFAULT_TIERS, MODEL_SHUTDOWNS, routing_settings, tiers_for_tenant
from routing.models import ModelConfig
from routing.prices import FALLBACK, PRICES, UNPRICED, call_cost, price_for
from routing.services import default_router

TODAY = date(2026, 12, 6)


def test_default_tiers_name_models_that_are_not_retired():
    for tier in routing_settings().tiers:
        retired = MODEL_SHUTDOWNS.get(tier.model)
        assert retired is None or retired.shutdown > TODAY, f"tier {tier.tier} default {tier.model} is retired"


def test_default_tier_3_is_claude_sonnet_4_6():
    assert (DEFAULT_TIERS[2].provider, DEFAULT_TIERS[2].model) == ("anthropic", "claude-sonnet-4-6")


def test_default_tier_2_is_gpt_6_luna():
    assert (DEFAULT_TIERS[1].provider, DEFAULT_TIERS[1].model) == ("openai", "gpt-6-luna")


def test_gpt_6_luna_is_priced_as_published():
    # $0.10 in, $0.50 out (reasoning included), $0.01 cached input, $0.125 cache write (1.25 x input)
    cost = call_cost(
        "gpt-6-luna",
        input_tokens=1_000_000,
        output_tokens=1_000_000,
        cached_tokens=1_000_000,
        cache_write_tokens=1_000_000,
    )
    assert cost == Decimal("0.735")
    # gpt-4o-mini keeps its row until and after its shutdown, for the calls a deployment still makes on it
    assert call_cost("gpt-4o-mini", input_tokens=1_000_000, output_tokens=1_000_000) == Decimal("0.75")


def test_gpt_6_1_sol_is_priced_as_published():
    # $2 in, $10 out (reasoning included), $0.10 cached input (5 % of input), $2.50 cache write (1.25 x input)
    cost = call_cost(
        "gpt-6.1-sol",
        input_tokens=1_000_000,
        output_tokens=1_000_000,
        cached_tokens=1_000_000,
        cache_write_tokens=1_000_000,
    )
    assert cost == Decimal("14.60")


def test_gpt_6_astra_is_priced_as_published():
    # $10 in, $50 out (reasoning included), $1 cached input, $12.50 cache write (1.25 x input)
    cost = call_cost(
        "gpt-6-astra",
        input_tokens=1_000_000,
        output_tokens=1_000_000,
        cached_tokens=1_000_000,
        cache_write_tokens=1_000_000,
    )
    assert cost == Decimal("73.50")
    # the most expensive row, so a model without a row is booked at Astra's prices
    assert PRICES["gpt-6-astra"] == FALLBACK


def test_gpt_5_mini_is_priced_as_published():
    # $0.25 in, $2 out (reasoning included), $0.025 cached input; no cache-write price (billed from GPT-5.6 on)
    cost = call_cost("gpt-5-mini", input_tokens=1_000_000, output_tokens=1_000_000, cached_tokens=1_000_000)
    assert cost == Decimal("2.275")


def test_default_tier_1_is_gemini_3_5_flash_lite():
    assert (DEFAULT_TIERS[0].provider, DEFAULT_TIERS[0].model) == ("gemini", "gemini-3.5-flash-lite")


@pytest.mark.parametrize("model", ["gemini-2.0-flash", "gemini-2.5-flash"])
def test_shut_down_gemini_flash_models_are_retired_in_favour_of_3_5_flash_lite(model):
    assert MODEL_SHUTDOWNS[model].successor == "gemini-3.5-flash-lite"
    assert MODEL_SHUTDOWNS[model].shutdown <= TODAY


def test_every_default_and_every_retired_model_keeps_a_price():
    # A row is read only when a call is booked (services: cost_usd=call_cost(...)); a CostEvent keeps the dollars
    # it was booked at, and rollups sum the stored cost_usd, so nothing is re-priced. Retired models keep their rows
    # for the calls still made on them (up to the shutdown, then a refusal or an estimated cut call), which a
    # deleted row would book at FALLBACK. A retired model no vendor page prices is named in UNPRICED instead, so
    # that booking it at FALLBACK is a decision (docs/routing.md), never a row forgotten.
    for model in [t.model for t in DEFAULT_TIERS]:
        assert model in PRICES, model
    for model in MODEL_SHUTDOWNS:
        assert (model in PRICES) != (model in UNPRICED), model


def test_every_successor_has_a_price_row():
    # a tenant moved to a successor must not be booked at FALLBACK
    for model, retirement in MODEL_SHUTDOWNS.items():
        assert retirement.successor in PRICES, (model, retirement.successor)


def test_unpriced_models_have_no_row_and_are_booked_at_fallback():
    assert {"gpt-5", "o3", "o1", "o4-mini"} <= UNPRICED
    for model in UNPRICED:
        assert model not in PRICES and price_for(model) == FALLBACK, model


def test_claude_sonnet_5_5_is_priced_as_published():
    # $2 in, $10 out, $0.10 cache read (cut from $0.20 on 2026-10-07), $2.50 5-minute cache write
    cost = call_cost(
        "claude-sonnet-5-5",
        input_tokens=1_000_000,
        output_tokens=1_000_000,
        cached_tokens=1_000_000,
        cache_write_tokens=1_000_000,
    )
    assert cost == Decimal("14.60")
    assert call_cost("claude-sonnet-4-5", input_tokens=1_000_000, output_tokens=0) == Decimal("3.00")


def test_gemini_3_5_flash_lite_is_priced_as_published():
    # $0.30 in, $2.50 out (thinking included), $0.03 cached
    cost = call_cost("gemini-3.5-flash-lite", input_tokens=1_000_000, output_tokens=1_000_000, cached_tokens=1_000_000)
    assert cost == Decimal("2.83")
    # the retired 2.0 Flash keeps its row (a call still made on it is booked at it, not at FALLBACK)
    assert call_cost("gemini-2.0-flash", input_tokens=1_000_000, output_tokens=1_000_000) == Decimal("0.50")


def test_unknown_models_cost_the_most_expensive_row():
    assert all(FALLBACK.input >= p.input and FALLBACK.output >= p.output for p in PRICES.values())
    assert call_cost("claude-unknown-9", input_tokens=1_000_000, output_tokens=1_000_000) == FALLBACK.input + (
        FALLBACK.output
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("tier", "provider", "model", "refusal"),
    [
        (3, "anthropic", "claude-sonnet-4-5", "claude-sonnet-4-5 was retired on 2026-11-30; use claude-sonnet-4-6"),
        (1, "gemini", "gemini-2.0-flash", "gemini-2.0-flash was retired on 2026-06-01; use gemini-3.5-flash-lite"),
        (2, "openai", "o4-mini", "o4-mini was retired on 2026-10-23; use gpt-6.1-sol"),
        (2, "openai", "o1", "o1 was retired on 2026-10-23; use gpt-6.1-sol"),
    ],
)
def test_model_config_refuses_a_retired_model_with_its_successor_named(tenant, tier, provider, model, refusal):
    row = ModelConfig(tenant=tenant, tier=tier, provider=provider, model=model, temperature=0.3, max_tokens=512)

    with pytest.raises(ValidationError) as caught:
        row.full_clean()

    assert refusal in str(caught.value)


@pytest.mark.django_db
def test_model_config_refuses_an_unknown_provider_naming_the_known_ones(tenant):
    row = ModelConfig(tenant=tenant, tier=2, provider="opnai", model="gpt-6-luna", temperature=0.3, max_tokens=512)

    with pytest.raises(ValidationError) as caught:
        row.full_clean()

    assert caught.value.message_dict == {
        "provider": ["Unknown provider 'opnai'; known: anthropic, gemini, local, openai."]
    }


@pytest.mark.django_db
def test_model_config_accepts_a_known_provider(tenant):
    row = ModelConfig(tenant=tenant, tier=2, provider="openai", model="gpt-6-luna", temperature=0.3, max_tokens=512)

    row.full_clean()


@pytest.mark.django_db
def test_migration_moves_rows_holding_a_retired_default_to_its_successor(tenant, other_tenant):
    # given one tenant on the old tier-3 default, another on a model of their own choosing
    old = ModelConfig.objects.create(tenant=tenant, tier=3, provider="anthropic", model="claude-sonnet-4-5",
                                     temperature=0.3, max_tokens=1024)  # fmt: skip
    chosen = ModelConfig.objects.create(tenant=other_tenant, tier=3, provider="anthropic", model="claude-sonnet-5-5",
                                        temperature=0.3, max_tokens=1024)  # fmt: skip
    migration = importlib.import_module("routing.migrations.0003_retired_models_to_successors")

    # when
    migration.retired_to_successors(global_apps, None)

    # then only the retired ID moved, and the tenant's tier 3 now names the successor
    old.refresh_from_db()
    chosen.refresh_from_db()
    assert (old.model, chosen.model) == ("claude-sonnet-4-6", "claude-sonnet-5-5")
    assert [t.model for t in tiers_for_tenant(tenant=tenant) if t.tier == 3] == ["claude-sonnet-4-6"]
    assert [t.model for t in tiers_for_tenant(tenant=other_tenant) if t.tier == 3] == ["claude-sonnet-5-5"]


@pytest.mark.django_db
def test_migration_0004_moves_rows_holding_a_shut_down_gemini_model_to_3_5_flash_lite(tenant, other_tenant):
    # given one tenant on the old tier-1 default, another on gemini-2.5-flash at tier 2, and rows that
    # must not move: a model of the tenant's own choosing, and the same ID under another provider
    old = ModelConfig.objects.create(tenant=tenant, tier=1, provider="gemini", model="gemini-2.0-flash",
                                     temperature=0.1, max_tokens=512)  # fmt: skip
    flash = ModelConfig.objects.create(tenant=other_tenant, tier=2, provider="gemini", model="gemini-2.5-flash",
                                       temperature=0.2, max_tokens=768)  # fmt: skip
    chosen = ModelConfig.objects.create(tenant=other_tenant, tier=1, provider="gemini", model="gemini-3.8-flash",
                                        temperature=0.1, max_tokens=512)  # fmt: skip
    elsewhere = ModelConfig.objects.create(tenant=tenant, tier=3, provider="openai", model="gemini-2.0-flash",
                                           temperature=0.3, max_tokens=1024)  # fmt: skip
    migration = importlib.import_module("routing.migrations.0004_retired_gemini_models_to_successors")

    # when
    migration.retired_to_successors(global_apps, None)

    # then only the shut-down Gemini IDs moved, each tenant's own rows only
    for row in (old, flash, chosen, elsewhere):
        row.refresh_from_db()
    assert (old.model, flash.model) == ("gemini-3.5-flash-lite", "gemini-3.5-flash-lite")
    assert (chosen.model, elsewhere.model) == ("gemini-3.8-flash", "gemini-2.0-flash")
    assert [t.model for t in tiers_for_tenant(tenant=tenant) if t.tier == 1] == ["gemini-3.5-flash-lite"]
    assert [t.model for t in tiers_for_tenant(tenant=other_tenant) if t.tier == 1] == ["gemini-3.8-flash"]


@pytest.mark.django_db
def test_migration_0007_moves_rows_holding_a_shut_down_openai_model_to_gpt_6_1_sol(tenant, other_tenant):
    from supportai.tests.factories import TenantFactory

    # given one tenant on gpt-5, gpt-5-mini and o1, another on o3, o4-mini and a model of its own choosing, and a
    # third naming gpt-5 under another provider (not OpenAI's model, so not moved)
    row = {"temperature": 0.2, "max_tokens": 768}
    mine = [ModelConfig.objects.create(tenant=tenant, tier=tier, provider="openai", model=model, **row)
            for tier, model in ((1, "o1"), (2, "gpt-5-mini"), (3, "gpt-5"))]  # fmt: skip
    theirs = [ModelConfig.objects.create(tenant=other_tenant, tier=tier, provider="openai", model=model, **row)
              for tier, model in ((1, "o4-mini"), (2, "o3"), (3, "gpt-6-astra"))]  # fmt: skip
    third = TenantFactory.create(name="Charlie Gym", slug="charlie")
    elsewhere = ModelConfig.objects.create(tenant=third, tier=2, provider="local", model="gpt-5", **row)
    migration = importlib.import_module("routing.migrations.0007_shut_down_openai_models_to_successors")

    # when
    migration.retired_to_successors(global_apps, None)

    # then only OpenAI's shut-down IDs moved, each row within its own tenant and tier
    for moved in (*mine, *theirs, elsewhere):
        moved.refresh_from_db()
    assert [r.model for r in mine] == ["gpt-6.1-sol", "gpt-6.1-sol", "gpt-6.1-sol"]
    assert [r.model for r in theirs] == ["gpt-6.1-sol", "gpt-6.1-sol", "gpt-6-astra"]
    assert elsewhere.model == "gpt-5"
    assert [(t.tier, t.model) for t in tiers_for_tenant(tenant=tenant)] == [
        (1, "gpt-6.1-sol"),
        (2, "gpt-6.1-sol"),
        (3, "gpt-6.1-sol"),
    ]
    assert [(t.tier, t.model) for t in tiers_for_tenant(tenant=other_tenant)][2] == (3, "gpt-6-astra")
    assert ModelConfig.objects.filter(tenant=third).count() == 1
    assert {r.tenant_id for r in ModelConfig.objects.filter(model="gpt-6.1-sol")} == {tenant.pk, other_tenant.pk}


def test_settings_check_warns_about_a_retired_gemini_tier_1(settings):
    from routing.checks import check_tier_models

    settings.ROUTING = {**settings.ROUTING, "TIER_MODELS": ("gemini:gemini-2.0-flash", "", "")}

    warnings = check_tier_models(None)

    assert [w.id for w in warnings] == ["routing.W001"]
    assert "ROUTING_TIER1" in warnings[0].msg and "gemini-3.5-flash-lite" in warnings[0].msg


def test_settings_check_warns_about_a_retired_tier_model(settings):
    from routing.checks import check_tier_models

    settings.ROUTING = {**settings.ROUTING, "TIER_MODELS": ("", "", "anthropic:claude-sonnet-4-5")}

    warnings = check_tier_models(None)

    assert [w.id for w in warnings] == ["routing.W001"]
    assert "claude-sonnet-4-5" in warnings[0].msg and "claude-sonnet-4-6" in warnings[0].msg


# Known shutdown dates: a configured model past its date, or within SHUTDOWN_WARNING_DAYS of it, is warned about.
def _tier_2(settings, spec: str) -> None:
    settings.ROUTING = {**settings.ROUTING, "TIER_MODELS": ("", spec, "")}


@pytest.mark.parametrize(
    ("model", "shutdown", "successor"),
    [
        # OpenAI's deprecations page: gpt-5 -> gpt-6.1-sol; gpt-5-mini -> gpt-6.1-terra, which no OpenAI page found
        # prices, so the nearest priced successor OpenAI names (docs/routing.md "Default models")
        ("gpt-5", date(2026, 12, 11), "gpt-6.1-sol"),
        ("gpt-5-mini", date(2026, 12, 11), "gpt-6.1-sol"),
        ("o3", date(2026, 12, 11), "gpt-6.1-sol"),
        # already shut down
        ("o1", date(2026, 10, 23), "gpt-6.1-sol"),
        ("o4-mini", date(2026, 10, 23), "gpt-6.1-sol"),
    ],
)
def test_openai_gpt_5_and_o_series_shutdowns_name_a_priced_successor(model, shutdown, successor):
    assert (MODEL_SHUTDOWNS[model].shutdown, MODEL_SHUTDOWNS[model].successor) == (shutdown, successor)


def test_settings_check_warns_about_gpt_5_mini_in_the_days_before_its_shutdown(settings, monkeypatch):
    from routing.checks import check_tier_models

    _tier_2(settings, "openai:gpt-5-mini")
    monkeypatch.setattr("routing.config.today", lambda: date(2026, 12, 7))

    (warning,) = check_tier_models(None)

    assert (warning.id, warning.msg) == (
        "routing.W002",
        "ROUTING_TIER2 names openai:gpt-5-mini: gpt-5-mini shuts down on 2026-12-11 (in 4 days); use gpt-6.1-sol.",
    )


def test_gpt_4o_mini_shuts_down_on_2027_01_14_in_favour_of_gpt_6_luna():
    assert (MODEL_SHUTDOWNS["gpt-4o-mini"].shutdown, MODEL_SHUTDOWNS["gpt-4o-mini"].successor) == (
        date(2027, 1, 14),
        "gpt-6-luna",
    )


@pytest.mark.parametrize(
    ("today", "ids"),
    [
        (date(2026, 12, 14), []),  # 31 days before
        (date(2026, 12, 15), ["routing.W002"]),  # 30 days before
        (date(2027, 1, 13), ["routing.W002"]),
        (date(2027, 1, 14), ["routing.W001"]),  # the day it shuts down
    ],
)
def test_settings_check_warns_from_30_days_before_a_tier_models_shutdown(settings, monkeypatch, today, ids):
    from routing.checks import check_tier_models

    _tier_2(settings, "openai:gpt-4o-mini")
    monkeypatch.setattr("routing.config.today", lambda: today)

    warnings = check_tier_models(None)

    assert [w.id for w in warnings] == ids
    assert all(isinstance(w, Warning) for w in warnings)


def test_settings_check_names_the_shutdown_date_and_the_successor(settings, monkeypatch):
    from routing.checks import check_tier_models

    _tier_2(settings, "openai:gpt-4o-mini")
    monkeypatch.setattr("routing.config.today", lambda: date(2026, 12, 20))

    (warning,) = check_tier_models(None)

    assert warning.msg == (
        "ROUTING_TIER2 names openai:gpt-4o-mini: gpt-4o-mini shuts down on 2027-01-14 (in 25 days); use gpt-6-luna."
    )
    assert "ROUTING_TIER2" in (warning.hint or "")


def test_shutdown_warning_is_registered_with_django_checks_as_a_warning(settings, monkeypatch):
    _tier_2(settings, "openai:gpt-4o-mini")
    monkeypatch.setattr("routing.config.today", lambda: date(2027, 1, 10))

    found = [m for m in run_checks() if m.id == "routing.W002"]

    assert [(m.level, m.is_serious()) for m in found] == [(WARNING, False)]


@pytest.mark.django_db
def test_model_config_accepts_a_model_until_its_shutdown_and_refuses_it_from_then_on(tenant, monkeypatch):
    row = ModelConfig(tenant=tenant, tier=2, provider="openai", model="gpt-4o-mini", temperature=0.2, max_tokens=768)
    monkeypatch.setattr("routing.config.today", lambda: date(2027, 1, 13))
    row.full_clean()

    monkeypatch.setattr("routing.config.today", lambda: date(2027, 1, 14))
    with pytest.raises(ValidationError) as caught:
        row.full_clean()

    assert caught.value.message_dict == {"model": ["gpt-4o-mini was retired on 2027-01-14; use gpt-6-luna."]}


@pytest.mark.django_db
def test_database_check_warns_about_each_enabled_tenant_row_near_or_past_its_models_shutdown(
    tenant, other_tenant, monkeypatch
):
    from routing.checks import check_tenant_models

    # given one tenant on gpt-4o-mini at tier 2, and rows that must not be named: another tenant's on gpt-6-luna,
    # and a disabled tier on gpt-4o-mini
    row = {"provider": "openai", "temperature": 0.2, "max_tokens": 768}
    ModelConfig.objects.create(tenant=tenant, tier=2, model="gpt-4o-mini", **row)
    ModelConfig.objects.create(tenant=other_tenant, tier=2, model="gpt-6-luna", **row)
    ModelConfig.objects.create(tenant=other_tenant, tier=1, model="gpt-4o-mini", enabled=False, **row)
    monkeypatch.setattr("routing.config.today", lambda: date(2026, 12, 20))

    # when
    warnings = check_tenant_models(None, databases=["default"])

    # then
    assert [(w.id, w.msg) for w in warnings] == [
        (
            "routing.W003",
            f"Tenant {tenant.slug} tier 2 names openai:gpt-4o-mini: gpt-4o-mini shuts down on 2027-01-14 (in 25 "
            "days); use gpt-6-luna.",
        )
    ]
    assert other_tenant.slug not in warnings[0].msg


@pytest.mark.django_db
def test_database_check_names_a_tenant_row_past_its_models_shutdown(tenant, monkeypatch):
    from routing.checks import check_tenant_models

    ModelConfig.objects.create(tenant=tenant, tier=2, provider="openai", model="gpt-4o-mini", temperature=0.2,
                               max_tokens=768)  # fmt: skip
    monkeypatch.setattr("routing.config.today", lambda: date(2027, 1, 20))

    (warning,) = check_tenant_models(None, databases=["default"])

    assert "gpt-4o-mini was retired on 2027-01-14; use gpt-6-luna" in warning.msg


@pytest.mark.django_db
def test_database_check_reads_nothing_unless_django_asks_for_database_checks(django_assert_num_queries):
    from routing.checks import check_tenant_models

    with django_assert_num_queries(0):
        assert check_tenant_models(None) == []


@pytest.mark.django_db
def test_database_check_is_registered_for_migrate_and_check_database(tenant, monkeypatch):
    ModelConfig.objects.create(tenant=tenant, tier=2, provider="openai", model="gpt-4o-mini", temperature=0.2,
                               max_tokens=768)  # fmt: skip
    monkeypatch.setattr("routing.config.today", lambda: date(2027, 1, 10))

    found = [m for m in run_checks(databases=["default"]) if m.id == "routing.W003"]

    assert [(m.level, m.is_serious()) for m in found] == [(WARNING, False)]


def test_database_check_is_quiet_before_the_tables_exist(monkeypatch):
    from django.db import ProgrammingError

    from routing.checks import check_tenant_models

    def missing_table(*args, **kwargs):
        raise ProgrammingError('relation "routing_modelconfig" does not exist')

    # as on a first ``migrate``, which runs the checks before it creates the tables
    monkeypatch.setattr(ModelConfig.objects, "filter", missing_table)

    assert check_tenant_models(None, databases=["default"]) == []


def test_stream_limits_default_to_30_30_and_60_seconds_and_reach_the_router(settings):
    # given no stream limits set, then tier 3's set to 90 s (ROUTING_TIER3_STREAM_S)
    settings.ROUTING = {key: value for key, value in settings.ROUTING.items() if key != "STREAM_LIMITS_S"}
    default = default_router().policy
    settings.ROUTING = {**settings.ROUTING, "STREAM_LIMITS_S": (30, 30, 90)}

    # when the router is built from settings
    policy = default_router().policy

    # then each tier's calls are bounded by their own limit, the local tier by none
    assert default.stream_limits_s == (30.0, 30.0, 60.0)
    assert [policy.stream_limit_s(tier) for tier in (0, 1, 2, 3)] == [None, 30.0, 30.0, 90.0]
