"""Pinned model IDs: dated snapshots, OpenAI's (``<base>-YYYY-MM-DD``, e.g. ``gpt-5-2025-08-07``) and Anthropic's
(``<base>-YYYYMMDD``, e.g. ``claude-sonnet-4-5-20250929``), and Gemini's stable versions (``<base>-NNN``, e.g.
``gemini-2.0-flash-001``): shut down and priced as their base.

A snapshot is its base model pinned to one day, a stable version its base pinned to one release; the vendor shuts it
down with its base and bills it at its base's rates. Before, only the exact IDs in ``MODEL_SHUTDOWNS`` and ``PRICES``
were known: a tenant on ``o1-2024-12-17``, ``claude-sonnet-4-5-20250929`` or ``gemini-2.0-flash-001`` was neither
refused nor warned about nor moved, and ``gpt-5-mini-2025-08-07`` was booked at ``FALLBACK`` (25 times its output
price). Only a whole, real date or a whole version is taken off, never a part of the name: ``gpt-5-mini-2025-08-07``
is ``gpt-5-mini``, not ``gpt-5``, ``claude-sonnet-4-5-1-20250929`` is not ``claude-sonnet-4-5``, and
``gemini-2.0-flash-lite-001`` is not ``gemini-2.0-flash``.
"""

from __future__ import annotations

import importlib
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.apps import apps as global_apps
from django.core.exceptions import ValidationError

from routing.checks import check_tenant_models, check_tier_models
from routing.config import retired_message, shutdown_soon_message, tiers_for_tenant
from routing.models import ModelConfig
from routing.prices import FALLBACK, PRICES, call_cost, price_for
from supportai.models import Tenant
from supportai.tests.factories import TenantFactory

SHUT_DOWN_SNAPSHOTS = [
    ("gpt-5-2025-08-07", "2026-12-11", "gpt-6.1-sol"),
    ("gpt-5-mini-2025-08-07", "2026-12-11", "gpt-6.1-sol"),
    ("o3-2025-04-16", "2026-12-11", "gpt-6.1-sol"),
    ("o1-2024-12-17", "2026-10-23", "gpt-6.1-sol"),
    ("o4-mini-2025-04-16", "2026-10-23", "gpt-6.1-sol"),
    ("claude-sonnet-4-5-20250929", "2026-11-30", "claude-sonnet-4-6"),
    ("gemini-2.0-flash-001", "2026-06-01", "gemini-3.5-flash-lite"),
    ("gemini-2.5-flash-001", "2026-12-01", "gemini-3.5-flash-lite"),
]
ROW = {"temperature": 0.2, "max_tokens": 768}


def _rows(tenant: Tenant, *specs: tuple[int, str, str]) -> list[ModelConfig]:
    """The tenant's Model configurations, each (tier, provider, model)."""
    return [
        ModelConfig.objects.create(tenant=tenant, tier=tier, provider=provider, model=model, **ROW)
        for tier, provider, model in specs
    ]


@pytest.mark.parametrize(("snapshot", "shutdown", "successor"), SHUT_DOWN_SNAPSHOTS)
def test_a_snapshot_of_a_shut_down_model_is_retired_on_its_bases_date_for_its_successor(
    snapshot: str, shutdown: str, successor: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("routing.config.today", lambda: date(2026, 12, 11))

    assert retired_message(snapshot) == f"{snapshot} was retired on {shutdown}; use {successor}"


@pytest.mark.parametrize(
    ("today", "snapshot", "message"),
    [
        (date(2026, 12, 7), "gpt-5-mini-2025-08-07", "shuts down on 2026-12-11 (in 4 days); use gpt-6.1-sol"),
        (
            date(2026, 11, 20),
            "claude-sonnet-4-5-20250929",
            "shuts down on 2026-11-30 (in 10 days); use claude-sonnet-4-6",
        ),
    ],
)
def test_a_snapshot_is_warned_about_before_its_bases_shutdown(
    today: date, snapshot: str, message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("routing.config.today", lambda: today)

    assert shutdown_soon_message(snapshot) == f"{snapshot} {message}"
    assert retired_message(snapshot) is None


@pytest.mark.parametrize(
    "model",
    [
        "gpt-5.1-2025-11-13",  # GPT-5.1 is not GPT-5
        "gpt-5-nano-2025-08-07",  # nor is GPT-5 nano
        "o3-pro-2025-06-10",  # nor o3-pro o3
        "gpt-6.1-sol",  # nor is Sol GPT-6
        "gpt-5-2025-13-45",  # no day: not a snapshot
        "gpt-5-2025-08",
        "claude-haiku-4-5-20251001",  # Haiku 4.5 is not Sonnet 4.5
        "claude-sonnet-4-5-1-20250929",  # nor is a Sonnet 4.5.1
        "claude-sonnet-4-5-20251301",  # no day: not a snapshot
        "claude-sonnet-4-5-20250230",
        "claude-sonnet-4-5-2025092",  # not 8 digits
        "claude-sonnet-4-5-2025-0929",  # half of each form
        "claude-sonnet-4-520250929",  # no hyphen before the day
        "gemini-2.0-flash-lite-001",  # Flash-Lite is not Flash
        "gemini-2.0-flash-live-001",  # nor is the Live model
        "gemini-2.0-flash-01",  # a version has three digits
        "gemini-2.0-flash-0001",
        "gemini-2.5-flash-preview-05-20",  # a preview is not a stable version
    ],
)
def test_only_the_date_is_taken_off_never_a_part_of_the_name(model: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("routing.config.today", lambda: date(2026, 12, 11))

    assert retired_message(model) is None
    assert shutdown_soon_message(model) is None


def test_a_snapshot_of_a_priced_model_is_priced_as_its_base() -> None:
    # gpt-5-mini's row, not gpt-5's (unpriced: FALLBACK)
    assert price_for("gpt-5-mini-2025-08-07") == PRICES["gpt-5-mini"] != FALLBACK
    assert call_cost("gpt-5-mini-2025-08-07", input_tokens=1_000_000, output_tokens=1_000_000) == Decimal("2.25")
    # gpt-4o-mini's row ($0.15), not gpt-4o's ($2.50)
    assert price_for("gpt-4o-mini-2024-07-18") == PRICES["gpt-4o-mini"]
    assert price_for("gpt-4o-2024-11-20") == PRICES["gpt-4o"]
    assert price_for("gpt-6.1-sol-2026-09-29") == PRICES["gpt-6.1-sol"]
    # Anthropic's form: Haiku 4.5's row ($1 / $5), not FALLBACK's $10 / $50
    assert price_for("claude-haiku-4-5-20251001") == PRICES["claude-haiku-4-5"] != FALLBACK
    assert call_cost("claude-haiku-4-5-20251001", input_tokens=1_000_000, output_tokens=1_000_000) == Decimal("6.00")
    assert price_for("claude-sonnet-4-5-20250929") == PRICES["claude-sonnet-4-5"]
    # Gemini's stable versions: Flash-Lite's row ($0.075), not Flash's ($0.10)
    assert price_for("gemini-2.0-flash-lite-001") == PRICES["gemini-2.0-flash-lite"] != FALLBACK
    assert price_for("gemini-2.0-flash-001") == PRICES["gemini-2.0-flash"]


@pytest.mark.parametrize(
    "model",
    [
        "gpt-5-2025-08-07",  # gpt-5 has no row: FALLBACK, as gpt-5 itself
        "gpt-6.1-terra-2026-09-29",  # no row for its base
        "gpt-5-mini-2025-13-45",  # not a day, so not gpt-5-mini's snapshot
        "gpt-6.1-sol-preview",
        "claude-3-5-sonnet-20241022",  # no row for claude-3-5-sonnet
        "claude-haiku-4-5-20251399",  # not a day, so not Haiku 4.5's snapshot
        "gemini-1.5-pro-002",  # no row for gemini-1.5-pro
        "gpt-4o-mini-001",  # three digits are a version only in Google's IDs
    ],
)
def test_a_model_whose_base_has_no_row_is_booked_at_fallback(model: str) -> None:
    assert price_for(model) == FALLBACK


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("provider", "snapshot", "message"),
    [
        ("openai", "o1-2024-12-17", "was retired on 2026-10-23; use gpt-6.1-sol."),
        ("anthropic", "claude-sonnet-4-5-20250929", "was retired on 2026-11-30; use claude-sonnet-4-6."),
        ("gemini", "gemini-2.0-flash-001", "was retired on 2026-06-01; use gemini-3.5-flash-lite."),
    ],
)
def test_model_config_refuses_a_snapshot_of_a_shut_down_model(
    provider: str, snapshot: str, message: str, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("routing.config.today", lambda: date(2026, 12, 6))
    row = ModelConfig(tenant=tenant, tier=2, provider=provider, model=snapshot, **ROW)

    with pytest.raises(ValidationError) as caught:
        row.full_clean()

    assert caught.value.message_dict == {"model": [f"{snapshot} {message}"]}


@pytest.mark.parametrize(
    ("today", "spec", "check_id", "message"),
    [
        (date(2026, 12, 6), "openai:o4-mini-2025-04-16", "routing.W001", "was retired on 2026-10-23; use gpt-6.1-sol."),
        (
            date(2026, 12, 6),
            "anthropic:claude-sonnet-4-5-20250929",
            "routing.W001",
            "was retired on 2026-11-30; use claude-sonnet-4-6.",
        ),
        (
            date(2026, 11, 2),
            "anthropic:claude-sonnet-4-5-20250929",
            "routing.W002",
            "shuts down on 2026-11-30 (in 28 days); use claude-sonnet-4-6.",
        ),
        (
            date(2026, 12, 6),
            "gemini:gemini-2.0-flash-001",
            "routing.W001",
            "was retired on 2026-06-01; use gemini-3.5-flash-lite.",
        ),
    ],
)
def test_settings_check_warns_about_a_snapshot_of_a_shut_down_tier_model(
    today: date, spec: str, check_id: str, message: str, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.ROUTING = {**settings.ROUTING, "TIER_MODELS": ("", spec, "")}
    monkeypatch.setattr("routing.config.today", lambda: today)

    (warning,) = check_tier_models(None)

    assert (warning.id, warning.msg) == (check_id, f"ROUTING_TIER2 names {spec}: {spec.partition(':')[2]} {message}")


@pytest.mark.django_db
def test_database_check_names_each_enabled_tenant_row_on_a_snapshot_of_a_shut_down_model(
    tenant: Tenant, other_tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given one tenant on Gemini 2.0 Flash's stable version and snapshots of o3 and Claude Sonnet 4.5, and rows that
    # must not be named: another tenant's on snapshots of models still served, and a disabled tier on a snapshot of o1
    _rows(
        tenant,
        (1, "gemini", "gemini-2.0-flash-001"),
        (2, "openai", "o3-2025-04-16"),
        (3, "anthropic", "claude-sonnet-4-5-20250929"),
    )
    _rows(other_tenant, (2, "openai", "gpt-6.1-sol-2026-09-29"), (3, "anthropic", "claude-haiku-4-5-20251001"))
    disabled = {**ROW, "enabled": False}
    ModelConfig.objects.create(tenant=other_tenant, tier=1, provider="openai", model="o1-2024-12-17", **disabled)
    monkeypatch.setattr("routing.config.today", lambda: date(2026, 12, 6))

    # when
    warnings = check_tenant_models(None, databases=["default"])

    # then
    assert [(w.id, w.msg) for w in warnings] == [
        (
            "routing.W003",
            f"Tenant {tenant.slug} tier 1 names gemini:gemini-2.0-flash-001: gemini-2.0-flash-001 was retired on "
            "2026-06-01; use gemini-3.5-flash-lite.",
        ),
        (
            "routing.W003",
            f"Tenant {tenant.slug} tier 2 names openai:o3-2025-04-16: o3-2025-04-16 shuts down on 2026-12-11 (in 5 "
            "days); use gpt-6.1-sol.",
        ),
        (
            "routing.W003",
            f"Tenant {tenant.slug} tier 3 names anthropic:claude-sonnet-4-5-20250929: claude-sonnet-4-5-20250929 was "
            "retired on 2026-11-30; use claude-sonnet-4-6.",
        ),
    ]


@pytest.mark.django_db
def test_migration_0008_moves_rows_holding_a_snapshot_of_a_shut_down_openai_model_to_gpt_6_1_sol(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    # given one tenant on snapshots of o1, gpt-5-mini and gpt-5, another on snapshots of o4-mini, o3 and a model still
    # served, and rows that must not move: a snapshot of another model (gpt-5.1) and the same snapshot under another
    # provider (not OpenAI's model)
    mine = _rows(
        tenant,
        (1, "openai", "o1-2024-12-17"),
        (2, "openai", "gpt-5-mini-2025-08-07"),
        (3, "openai", "gpt-5-2025-08-07"),
    )
    theirs = _rows(
        other_tenant,
        (1, "openai", "o4-mini-2025-04-16"),
        (2, "openai", "o3-2025-04-16"),
        (3, "openai", "gpt-4o-mini-2024-07-18"),
    )
    third = TenantFactory.create(name="Charlie Gym", slug="charlie")
    kept = _rows(third, (1, "openai", "gpt-5.1-2025-11-13"), (2, "local", "gpt-5-2025-08-07"))
    migration = importlib.import_module("routing.migrations.0008_shut_down_openai_snapshots_to_successors")

    # when
    migration.snapshots_to_successors(global_apps, None)

    # then only snapshots of OpenAI's shut-down models moved, each row within its own tenant and tier
    for row in (*mine, *theirs, *kept):
        row.refresh_from_db()
    assert [r.model for r in mine] == ["gpt-6.1-sol", "gpt-6.1-sol", "gpt-6.1-sol"]
    assert [r.model for r in theirs] == ["gpt-6.1-sol", "gpt-6.1-sol", "gpt-4o-mini-2024-07-18"]
    assert [r.model for r in kept] == ["gpt-5.1-2025-11-13", "gpt-5-2025-08-07"]
    assert [(t.tier, t.model) for t in tiers_for_tenant(tenant=tenant)] == [
        (1, "gpt-6.1-sol"),
        (2, "gpt-6.1-sol"),
        (3, "gpt-6.1-sol"),
    ]
    assert {r.tenant_id for r in ModelConfig.objects.filter(model="gpt-6.1-sol")} == {tenant.pk, other_tenant.pk}


@pytest.mark.django_db
def test_migration_0008_leaves_rows_whose_date_is_no_day_of_the_calendar(tenant: Tenant) -> None:
    # given rows naming a shut-down OpenAI model followed by a date that is no day (as model_ids reads them: no
    # snapshot, so neither retired nor priced as the base), and one real snapshot
    kept = _rows(
        tenant,
        (1, "openai", "gpt-5-2025-02-31"),
        (2, "openai", "o3-2025-13-01"),
        (3, "openai", "o1-2024-00-17"),
    )
    moved = _rows(TenantFactory.create(name="Charlie Gym", slug="charlie"), (1, "openai", "gpt-5-2024-02-29"))
    migration = importlib.import_module("routing.migrations.0008_shut_down_openai_snapshots_to_successors")

    # when
    migration.snapshots_to_successors(global_apps, None)

    # then only the real day's snapshot moved
    for row in (*kept, *moved):
        row.refresh_from_db()
    assert [r.model for r in kept] == ["gpt-5-2025-02-31", "o3-2025-13-01", "o1-2024-00-17"]
    assert [r.model for r in moved] == ["gpt-6.1-sol"]


@pytest.mark.django_db
def test_migration_0009_moves_rows_holding_a_dated_claude_sonnet_4_5_to_claude_sonnet_4_6(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    # given one tenant on two snapshots of Claude Sonnet 4.5 and Haiku 4.5's, another on one of Sonnet 4.5's, and rows
    # that must not move: IDs that only look like Sonnet 4.5's snapshot (another model's name, eight digits that are
    # no day) and the same snapshot under another provider (not Anthropic's model)
    mine = _rows(
        tenant,
        (1, "anthropic", "claude-haiku-4-5-20251001"),
        (2, "anthropic", "claude-sonnet-4-5-20250929"),
        (3, "anthropic", "claude-sonnet-4-5-20251015"),
    )
    theirs = _rows(other_tenant, (3, "anthropic", "claude-sonnet-4-5-20250929"))
    third = TenantFactory.create(name="Charlie Gym", slug="charlie")
    kept = _rows(
        third,
        (1, "anthropic", "claude-sonnet-4-5-1-20250929"),
        (2, "anthropic", "claude-sonnet-4-5-20251301"),
        (3, "openai", "claude-sonnet-4-5-20250929"),
    )
    migration = importlib.import_module("routing.migrations.0009_shut_down_anthropic_snapshots_to_successors")

    # when
    migration.snapshots_to_successors(global_apps, None)

    # then only Anthropic's snapshots of Sonnet 4.5 moved, each row within its own tenant and tier
    for row in (*mine, *theirs, *kept):
        row.refresh_from_db()
    assert [r.model for r in mine] == ["claude-haiku-4-5-20251001", "claude-sonnet-4-6", "claude-sonnet-4-6"]
    assert [r.model for r in theirs] == ["claude-sonnet-4-6"]
    assert [r.model for r in kept] == [
        "claude-sonnet-4-5-1-20250929",
        "claude-sonnet-4-5-20251301",
        "claude-sonnet-4-5-20250929",
    ]
    assert [(t.tier, t.model) for t in tiers_for_tenant(tenant=other_tenant)][2] == (3, "claude-sonnet-4-6")
    assert {(r.tenant_id, r.tier) for r in ModelConfig.objects.filter(model="claude-sonnet-4-6")} == {
        (tenant.pk, 2),
        (tenant.pk, 3),
        (other_tenant.pk, 3),
    }


@pytest.mark.django_db
def test_migration_0010_moves_rows_holding_a_stable_version_of_a_shut_down_gemini_model_to_gemini_3_5_flash_lite(
    tenant: Tenant, other_tenant: Tenant
) -> None:
    # given one tenant on stable versions of Gemini 2.0 Flash and 2.5 Flash, another on one of 2.0 Flash's, and rows
    # that must not move: another model's version (2.0 Flash-Lite), IDs that only look like a version (two digits, a
    # preview) and the same version under another provider (not Google's model)
    mine = _rows(
        tenant,
        (1, "gemini", "gemini-2.0-flash-001"),
        (2, "gemini", "gemini-2.5-flash-001"),
        (3, "gemini", "gemini-2.0-flash-lite-001"),
    )
    theirs = _rows(other_tenant, (1, "gemini", "gemini-2.0-flash-002"))
    third = TenantFactory.create(name="Charlie Gym", slug="charlie")
    kept = _rows(
        third,
        (1, "gemini", "gemini-2.0-flash-01"),
        (2, "gemini", "gemini-2.5-flash-preview-05-20"),
        (3, "local", "gemini-2.0-flash-001"),
    )
    migration = importlib.import_module("routing.migrations.0010_shut_down_gemini_versions_to_successors")

    # when
    migration.versions_to_successors(global_apps, None)

    # then only Google's versions of the two shut-down models moved, each row within its own tenant and tier
    for row in (*mine, *theirs, *kept):
        row.refresh_from_db()
    assert [r.model for r in mine] == ["gemini-3.5-flash-lite", "gemini-3.5-flash-lite", "gemini-2.0-flash-lite-001"]
    assert [r.model for r in theirs] == ["gemini-3.5-flash-lite"]
    assert [r.model for r in kept] == ["gemini-2.0-flash-01", "gemini-2.5-flash-preview-05-20", "gemini-2.0-flash-001"]
    assert tiers_for_tenant(tenant=other_tenant)[0].model == "gemini-3.5-flash-lite"
    assert {(r.tenant_id, r.tier) for r in ModelConfig.objects.filter(model="gemini-3.5-flash-lite")} == {
        (tenant.pk, 1),
        (tenant.pk, 2),
        (other_tenant.pk, 1),
    }
