"""System checks: a deployment's tier models (``ROUTING_TIER<n>``) that a vendor has retired."""

from __future__ import annotations

from typing import Any

from django.core.checks import CheckMessage, Warning, register

from routing.config import retired_message, routing_settings


@register()
def check_tier_models(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    warnings: list[CheckMessage] = []
    for tier in routing_settings().tiers:
        retired = retired_message(tier.model)
        if retired is not None:
            warnings.append(
                Warning(
                    f"ROUTING_TIER{tier.tier} names {tier.provider}:{tier.model}: {retired}.",
                    hint=f"Set ROUTING_TIER{tier.tier} to the successor, or leave it empty for the default.",
                    id="routing.W001",
                )
            )
    return warnings
