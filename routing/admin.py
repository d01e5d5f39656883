"""Admin for routing: model overrides, prompt versions, the cost ledger, rollups, guardrail and budget logs."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Count, QuerySet, Sum
from django.http import HttpRequest
from django.template.response import TemplateResponse

from routing.models import BudgetAlert, CostEvent, CostSummary, GuardrailEvent, ModelConfig, PromptVersion
from supportai.admin_mixins import TenantScopedModelAdmin


class ReadOnlyLedgerAdmin(TenantScopedModelAdmin):
    """Ledger rows are written by the router only."""

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ModelConfig)
class ModelConfigAdmin(TenantScopedModelAdmin):
    list_display = ("tenant", "tier", "provider", "model", "temperature", "max_tokens", "enabled")
    list_filter = ("tier", "provider", "enabled")
    list_select_related = ("tenant",)


@admin.register(PromptVersion)
class PromptVersionAdmin(admin.ModelAdmin):
    list_display = ("name", "sha256", "created_at")
    readonly_fields = ("name", "sha256", "body", "created_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(CostEvent)
class CostEventAdmin(ReadOnlyLedgerAdmin):
    list_display = ("created_at", "tenant", "tier", "provider", "model", "purpose", "outcome", "cost_usd", "latency_ms")
    list_filter = ("tier", "provider", "outcome", "purpose", "created_at")
    list_select_related = ("tenant", "prompt_version")
    date_hierarchy = "created_at"


@admin.register(CostSummary)
class CostSummaryAdmin(ReadOnlyLedgerAdmin):
    """Spend by day, tier and model; the change list ends with totals for the filtered rows."""

    list_display = ("day", "tenant", "tier", "provider", "model", "calls", "errors", "cost_usd")
    list_filter = ("tier", "provider", "model", "day")
    list_select_related = ("tenant",)
    date_hierarchy = "day"
    change_list_template = "admin/routing/costsummary/change_list.html"

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        response = super().changelist_view(request, extra_context)
        if isinstance(response, TemplateResponse) and response.context_data is not None:
            changelist = response.context_data.get("cl")
            if changelist is not None:
                response.context_data["spend"] = spend_breakdown(changelist.queryset)
        return response


def spend_breakdown(queryset: QuerySet[CostSummary]) -> dict[str, list[dict[str, Any]]]:
    def by(*fields: str) -> list[dict[str, Any]]:
        return list(
            queryset.values(*fields)
            .annotate(cost=Sum("cost_usd"), calls=Sum("calls"), rows=Count("id"))
            .order_by(*fields)
        )

    return {"by_day": by("day")[-31:], "by_tier": by("tier"), "by_model": by("provider", "model")}


@admin.register(GuardrailEvent)
class GuardrailEventAdmin(ReadOnlyLedgerAdmin):
    list_display = ("created_at", "tenant", "stage", "flag", "conversation_id", "excerpt")
    list_filter = ("stage", "flag")
    list_select_related = ("tenant",)


@admin.register(BudgetAlert)
class BudgetAlertAdmin(ReadOnlyLedgerAdmin):
    list_display = ("month", "tenant", "level", "spent_usd", "budget_usd", "created_at")
    list_filter = ("level",)
    list_select_related = ("tenant",)
