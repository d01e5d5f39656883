"""Routing data: per-tenant model overrides, prompt versions, the cost ledger and guardrail/budget logs."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from supportai.models import TenantScopedModel


class Tier(models.IntegerChoices):
    LOCAL = 0, "local"
    TIER1 = 1, "tier 1"
    TIER2 = 2, "tier 2"
    TIER3 = 3, "tier 3"


class CallOutcome(models.TextChoices):
    SUCCESS = "success", "success"
    LOW_CONFIDENCE = "low_confidence", "low confidence"
    ERROR = "error", "error"
    FALLBACK = "fallback", "fallback"
    CANCELLED = "cancelled", "cancelled (usage estimated)"


class CallPurpose(models.TextChoices):
    ANSWER = "answer", "answer"
    SELF_EVAL = "self_eval", "self-evaluation"


class ModelConfig(TenantScopedModel):
    """A tenant's override of one tier (provider, model, sampling). Absent → the settings default."""

    tier = models.PositiveSmallIntegerField(
        choices=[(1, "tier 1"), (2, "tier 2"), (3, "tier 3")],
    )
    provider = models.CharField(max_length=32, help_text="gemini, openai, anthropic or local")
    model = models.CharField(max_length=100)
    temperature = models.FloatField(validators=[MinValueValidator(0.0), MaxValueValidator(2.0)])
    max_tokens = models.PositiveIntegerField(validators=[MinValueValidator(16), MaxValueValidator(8192)])
    enabled = models.BooleanField(default=True, help_text="Off: the router skips this tier for the tenant")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "tier"], name="routing_modelconfig_unique_tier")]
        ordering = ["tenant", "tier"]
        verbose_name = "model configuration"

    def __str__(self) -> str:
        return f"tier {self.tier}: {self.provider}/{self.model}"

    def clean(self) -> None:
        from routing.config import KNOWN_PROVIDERS, retired_message
        from routing.registry import UNKNOWN_PROVIDER

        errors: dict[str, str] = {}
        if self.provider not in KNOWN_PROVIDERS:
            known = ", ".join(sorted(KNOWN_PROVIDERS))
            errors["provider"] = UNKNOWN_PROVIDER.format(name=self.provider, known=known) + "."
        retired = retired_message(self.model)
        if retired is not None:
            errors["model"] = f"{retired}."
        if errors:
            raise ValidationError(errors)


class PromptVersion(models.Model):
    """An exact system prompt template set, named by the SHA-256 of its text (global, not per tenant)."""

    name = models.CharField(max_length=64)
    sha256 = models.CharField(max_length=64, unique=True)
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name}@{self.sha256[:12]}"


class CostEvent(TenantScopedModel):
    """One model call (or the local answer): what it cost and how it went."""

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    conversation_id = models.BigIntegerField(null=True, blank=True)
    message_id = models.BigIntegerField(null=True, blank=True)
    provider = models.CharField(max_length=32)
    model = models.CharField(max_length=100)
    tier = models.PositiveSmallIntegerField(choices=Tier.choices)
    purpose = models.CharField(max_length=16, choices=CallPurpose.choices, default=CallPurpose.ANSWER)
    input_tokens = models.PositiveIntegerField(default=0)
    output_tokens = models.PositiveIntegerField(default=0)
    cached_tokens = models.PositiveIntegerField(default=0)
    # Input tokens written to a prompt cache (billed at the vendor's write price); 0 where a vendor reports none.
    cache_write_tokens = models.PositiveIntegerField(default=0)
    cost_usd = models.DecimalField(max_digits=12, decimal_places=8, default=Decimal("0"))
    latency_ms = models.FloatField(default=0.0)
    time_to_first_token_ms = models.FloatField(null=True, blank=True)
    outcome = models.CharField(max_length=16, choices=CallOutcome.choices)
    confidence = models.FloatField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)
    prompt_version = models.ForeignKey(PromptVersion, null=True, blank=True, on_delete=models.PROTECT)

    class Meta:
        indexes = [
            models.Index(fields=["tenant", "created_at"]),
            # A stored answer's usage is the sum of its own calls (chat.services._record_usage).
            models.Index(
                fields=["tenant", "message_id"],
                name="costevent_tenant_message",
                condition=models.Q(message_id__isnull=False),
            ),
        ]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.provider}/{self.model} {self.outcome} ${self.cost_usd}"


class CostSummary(TenantScopedModel):
    """Daily rollup of ``CostEvent`` rows by tier, provider and model (rebuilt idempotently)."""

    day = models.DateField()
    tier = models.PositiveSmallIntegerField(choices=Tier.choices)
    provider = models.CharField(max_length=32)
    model = models.CharField(max_length=100)
    calls = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0)
    input_tokens = models.PositiveBigIntegerField(default=0)
    output_tokens = models.PositiveBigIntegerField(default=0)
    cached_tokens = models.PositiveBigIntegerField(default=0)
    cache_write_tokens = models.PositiveBigIntegerField(default=0)
    cost_usd = models.DecimalField(max_digits=14, decimal_places=8, default=Decimal("0"))

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "day", "tier", "provider", "model"], name="routing_costsummary_unique_bucket"
            )
        ]
        ordering = ["-day", "tier", "model"]
        verbose_name_plural = "cost summaries"

    def __str__(self) -> str:
        return f"{self.day} tier {self.tier} {self.model}: ${self.cost_usd}"


class GuardrailEvent(TenantScopedModel):
    """An input or output check that fired (the customer was answered safely)."""

    class Stage(models.TextChoices):
        INPUT = "input", "input"
        OUTPUT = "output", "output"

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    stage = models.CharField(max_length=8, choices=Stage.choices)
    flag = models.CharField(max_length=48)
    conversation_id = models.BigIntegerField(null=True, blank=True)
    message_id = models.BigIntegerField(null=True, blank=True)
    excerpt = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.stage}:{self.flag}"


class BudgetAlert(TenantScopedModel):
    """Raised once per tenant, month and level when spend crosses the soft or hard budget limit."""

    class Level(models.TextChoices):
        SOFT = "soft", "soft limit (tiers downgraded)"
        HARD = "hard", "hard limit (local only)"

    month = models.DateField(help_text="First day of the month")
    level = models.CharField(max_length=8, choices=Level.choices)
    spent_usd = models.DecimalField(max_digits=12, decimal_places=6)
    budget_usd = models.DecimalField(max_digits=12, decimal_places=2)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "month", "level"], name="routing_budgetalert_unique_level")
        ]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.level}: ${self.spent_usd} of ${self.budget_usd}"
