"""OpenAI's dated snapshots (``<base>-YYYY-MM-DD``, e.g. ``gpt-5-2025-08-07``): shut down and priced as their base.

A snapshot is its base model pinned to one day; OpenAI shuts it down with its base and bills it at its base's rates.
Before, only the exact IDs in ``MODEL_SHUTDOWNS`` and ``PRICES`` were known: a tenant on ``o1-2024-12-17`` was neither
refused nor warned about nor moved, and ``gpt-5-mini-2025-08-07`` was booked at ``FALLBACK`` (25 times its output
price). Only the date is taken off, never a part of the name: ``gpt-5-mini-2025-08-07`` is ``gpt-5-mini``, not
``gpt-5``.
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
    ("gpt-5-2025-08-07", "2026-12-11"),
    ("gpt-5-mini-2025-08-07", "2026-12-11"),
    ("o3-2025-04-16", "2026-12-11"),
    ("o1-2024-12-17", "2026-10-23"),
    ("o4-mini-2025-04-16", "2026-10-23"),
]
ROW = {"temperature": 0.2, "max_tokens": 768}


def _rows(tenant: Tenant, *specs: tuple[int, str, str]) -> list[ModelConfig]:
    """The tenant's Model configurations, each (tier, provider, model)."""
    return [
        ModelConfig.objects.create(tenant=tenant, tier=tier, provider=provider, model=model, **ROW)
        for tier, provider, model in specs
    ]


@pytest.mark.parametrize(("snapshot", "shutdown"), SHUT_DOWN_SNAPSHOTS)
def test_a_snapshot_of_a_shut_down_model_is_retired_on_its_bases_date_for_its_successor(
    snapshot: str, shutdown: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("routing.config.today", lambda: date(2026, 12, 11))

    assert retired_message(snapshot) == f"{snapshot} was retired on {shutdown}; use gpt-6.1-sol"


def test_a_snapshot_is_warned_about_before_its_bases_shutdown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("routing.config.today", lambda: date(2026, 12, 7))

    assert shutdown_soon_message("gpt-5-mini-2025-08-07") == (
        "gpt-5-mini-2025-08-07 shuts down on 2026-12-11 (in 4 days); use gpt-6.1-sol"
    )
    assert retired_message("gpt-5-mini-2025-08-07") is None


@pytest.mark.parametrize(
    "model",
    [
        "gpt-5.1-2025-11-13",  # GPT-5.1 is not GPT-5
        "gpt-5-nano-2025-08-07",  # nor is GPT-5 nano
        "o3-pro-2025-06-10",  # nor o3-pro o3
        "gpt-6.1-sol",  # nor is Sol GPT-6
        "gpt-5-2025-13-45",  # no day: not a snapshot
        "gpt-5-2025-08",
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


@pytest.mark.parametrize(
    "model",
    [
        "gpt-5-2025-08-07",  # gpt-5 has no row: FALLBACK, as gpt-5 itself
        "gpt-6.1-terra-2026-09-29",  # no row for its base
        "gpt-5-mini-2025-13-45",  # not a day, so not gpt-5-mini's snapshot
        "gpt-6.1-sol-preview",
    ],
)
def test_a_model_whose_base_has_no_row_is_booked_at_fallback(model: str) -> None:
    assert price_for(model) == FALLBACK


@pytest.mark.django_db
def test_model_config_refuses_a_snapshot_of_a_shut_down_model(tenant: Tenant, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("routing.config.today", lambda: date(2026, 12, 6))
    row = ModelConfig(tenant=tenant, tier=2, provider="openai", model="o1-2024-12-17", **ROW)

    with pytest.raises(ValidationError) as caught:
        row.full_clean()

    assert caught.value.message_dict == {"model": ["o1-2024-12-17 was retired on 2026-10-23; use gpt-6.1-sol."]}


def test_settings_check_warns_about_a_snapshot_of_a_shut_down_tier_model(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.ROUTING = {**settings.ROUTING, "TIER_MODELS": ("", "openai:o4-mini-2025-04-16", "")}
    monkeypatch.setattr("routing.config.today", lambda: date(2026, 12, 6))

    (warning,) = check_tier_models(None)

    assert (warning.id, warning.msg) == (
        "routing.W001",
        "ROUTING_TIER2 names openai:o4-mini-2025-04-16: o4-mini-2025-04-16 was retired on 2026-10-23; use gpt-6.1-sol.",
    )


@pytest.mark.django_db
def test_database_check_names_each_enabled_tenant_row_on_a_snapshot_of_a_shut_down_model(
    tenant: Tenant, other_tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given one tenant on a snapshot of o3, and rows that must not be named: another tenant's on a snapshot of a
    # model still served, and a disabled tier on a snapshot of o1
    _rows(tenant, (2, "openai", "o3-2025-04-16"))
    _rows(other_tenant, (2, "openai", "gpt-6.1-sol-2026-09-29"))
    disabled = {**ROW, "enabled": False}
    ModelConfig.objects.create(tenant=other_tenant, tier=1, provider="openai", model="o1-2024-12-17", **disabled)
    monkeypatch.setattr("routing.config.today", lambda: date(2026, 12, 6))

    # when
    warnings = check_tenant_models(None, databases=["default"])

    # then
    assert [(w.id, w.msg) for w in warnings] == [
        (
            "routing.W003",
            f"Tenant {tenant.slug} tier 2 names openai:o3-2025-04-16: o3-2025-04-16 shuts down on 2026-12-11 (in 5 "
            "days); use gpt-6.1-sol.",
        )
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
