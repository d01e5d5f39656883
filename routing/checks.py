"""System checks: a deployment's tier models (``ROUTING_TIER<n>``) that a vendor has shut down (``routing.W001``)
or shuts down within ``SHUTDOWN_WARNING_DAYS`` (``routing.W002``), from ``MODEL_SHUTDOWNS``."""

from __future__ import annotations

from typing import Any

from django.core.checks import CheckMessage, Warning, register

from routing.config import retired_message, routing_settings, shutdown_soon_message


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
