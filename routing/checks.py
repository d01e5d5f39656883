"""System checks from ``MODEL_SHUTDOWNS``: a model a vendor has shut down, or shuts down within
``SHUTDOWN_WARNING_DAYS``, named by a deployment's tier (``ROUTING_TIER<n>`` or its default: ``routing.W001``
once shut down, ``routing.W002`` before) or by an enabled tenant *Model configuration* (``routing.W003``, a
database check: run by ``migrate`` and ``check --database default``). Warnings only: nothing refuses to start."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.checks import CheckMessage, Tags, Warning, register
from django.db import DatabaseError
from django.db.models import Q

from routing.config import MODEL_SHUTDOWNS, retired_message, routing_settings, shutdown_soon_message


@register()
def check_tier_models(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    warnings: list[CheckMessage] = []
    for tier in routing_settings().tiers:
        for describe, check_id in ((retired_message, "routing.W001"), (shutdown_soon_message, "routing.W002")):
            sentence = describe(tier.model)
            if sentence is not None:
                warnings.append(
                    Warning(
                        f"ROUTING_TIER{tier.tier} names {tier.provider}:{tier.model}: {sentence}.",
                        hint=f"Set ROUTING_TIER{tier.tier} to the successor, or leave it empty for the default.",
                        id=check_id,
                    )
                )
    return warnings


@register(Tags.database)
def check_tenant_models(app_configs: Any, databases: Sequence[str] | None = None, **kwargs: Any) -> list[CheckMessage]:
    if not databases:
        return []
    from routing.models import ModelConfig

    try:
        # Every tenant's rows: an operator's check, not a tenant's read.
        rows = list(
            ModelConfig.objects.filter(_shut_down_or_snapshot(), enabled=True)
            .order_by("tenant__slug", "tier")
            .values_list("tenant__slug", "tier", "provider", "model")
        )
    except DatabaseError:  # ``migrate`` runs the checks before it creates the tables
        return []
    warnings: list[CheckMessage] = []
    for slug, tier, provider, model in rows:
        sentence = retired_message(model) or shutdown_soon_message(model)
        if sentence is not None:
            warnings.append(
                Warning(
                    f"Tenant {slug} tier {tier} names {provider}:{model}: {sentence}.",
                    hint="Change the tenant's Model configuration in admin to the successor, or delete it.",
                    id="routing.W003",
                )
            )
    return warnings


def _shut_down_or_snapshot() -> Q:
    """Rows naming a model of ``MODEL_SHUTDOWNS``, or an ID starting with one and a hyphen: its pinned IDs (dated
    snapshots, Gemini's stable versions), and other models the messages then leave out (``retirement_of``:
    ``gpt-5-mini`` starts like a snapshot of ``gpt-5``)."""
    rows = Q(model__in=list(MODEL_SHUTDOWNS))
    for model in MODEL_SHUTDOWNS:
        rows |= Q(model__startswith=f"{model}-")
    return rows
