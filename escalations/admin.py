"""Admin: policies (secrets write-only), escalations with their audit trail, notification deliveries.

Escalations change state only through the inbox (so every transition is audited); here they are
read-only. Failed deliveries can be retried.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone

from escalations.models import DeliveryStatus, Escalation, EscalationEvent, EscalationPolicy, NotificationDelivery
from escalations.notifications.dispatch import deliveries_after_switch_on, enqueue_delivery
from escalations.notifications.gone import PolicyDeleted, policy_save_changes
from supportai.admin_mixins import TenantScopedModelAdmin, TenantScopedReadOnlyInline
from supportai.crypto import DecryptionError

SECRET_FIELDS = ("slack_webhook_url", "webhook_secret")
WEBHOOK_NEEDS_SECRET = "A webhook URL needs a signing secret: every webhook is HMAC-SHA256 signed."
WEBHOOK_NEEDS_HTTPS = "The webhook URL must start with https:// (plain http:// only with DEBUG on)."
POLICY_DELETED = "This escalation policy was deleted meanwhile, by someone else: your changes were not saved."
SECRET_UNREADABLE = (
    "The stored value cannot be decrypted (its encryption key is no longer configured): "
    "enter it again, or tick “clear secrets”."
)


class EscalationPolicyForm(forms.ModelForm):
    """Secrets are never sent back to the browser; leaving one blank keeps the stored value (one no
    configured key opens counts as absent and must be entered again)."""

    slack_webhook_url = forms.CharField(
        required=False, widget=forms.PasswordInput(render_value=False), help_text="Blank keeps the stored URL"
    )
    webhook_secret = forms.CharField(
        required=False, widget=forms.PasswordInput(render_value=False), help_text="Blank keeps the stored secret"
    )
    webhook_url = forms.URLField(
        required=False,
        assume_scheme="https",
        help_text="JSON POST, HMAC-SHA256 signed with the webhook secret (required with a URL); https:// only",
    )
    clear_secrets = forms.BooleanField(required=False, help_text="Remove the Slack URL and the webhook secret")

    class Meta:
        model = EscalationPolicy
        fields = (
            "tenant",
            "team_name",
            "timezone",
            "weekly_hours",
            "holidays",
            "billing_dispute_threshold",
            "sla_minutes_high",
            "sla_minutes_medium",
            "sla_minutes_low",
            "notify_email",
            "slack_webhook_url",
            "webhook_url",
            "webhook_secret",
        )

    def changed_fields(self) -> list[str]:
        """The policy fields this form changes. A secret left blank keeps the stored value (``clean``), so it
        changes only when one is typed or the secrets are cleared."""
        clearing = bool(self.cleaned_data.get("clear_secrets"))
        kept = {name for name in SECRET_FIELDS if not clearing and not self.data.get(self.add_prefix(name))}
        return [name for name in self.changed_data if name in EscalationPolicyForm.Meta.fields and name not in kept]

    def clean_slack_webhook_url(self) -> str:
        value: str = self.cleaned_data["slack_webhook_url"].strip()
        if value and not value.startswith("https://"):
            raise forms.ValidationError("Slack incoming-webhook URLs start with https://")
        return value

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        for name in SECRET_FIELDS:
            if cleaned.get("clear_secrets"):
                cleaned[name] = ""
            elif not cleaned.get(name) and self.instance.pk:
                cleaned[name] = self._stored_secret(name)
        self._check_webhook(cleaned)
        return cleaned

    def _stored_secret(self, name: str) -> str:
        try:
            stored: str = getattr(self.instance, name)
        except DecryptionError:
            self.add_error(name, SECRET_UNREADABLE)
            return ""
        return stored

    def _check_webhook(self, cleaned: dict[str, Any]) -> None:
        """A webhook is always signed and, outside development, sent over HTTPS. A stored URL
        without a secret (saved before this rule) is refused on the policy's next save."""
        url: str = cleaned.get("webhook_url") or ""
        if not url:
            return
        if not cleaned.get("webhook_secret") and not self.has_error("webhook_secret"):
            self.add_error("webhook_secret", WEBHOOK_NEEDS_SECRET)
        if not settings.DEBUG and not url.lower().startswith("https://"):
            self.add_error("webhook_url", WEBHOOK_NEEDS_HTTPS)


@admin.register(EscalationPolicy)
class EscalationPolicyAdmin(TenantScopedModelAdmin):
    form = EscalationPolicyForm
    list_display = ("tenant", "team_name", "timezone", "billing_dispute_threshold", "notify_email", "updated_at")
    list_select_related = ("tenant",)
    # Set by a receiver's 410 Gone; switched back on from the console inbox.
    readonly_fields = ("slack_disabled_at", "slack_disabled_reason", "webhook_disabled_at", "webhook_disabled_reason")

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        """A policy deleted by someone else while its form was being saved: the save is undone with the admin's
        transaction (nothing written, no change logged), and the policy list says so."""
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except PolicyDeleted:
            messages.error(request, POLICY_DELETED)
            return redirect("admin:escalations_escalationpolicy_changelist")

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        """A change writes only the fields the form changed, under the policy's lock (``policy_save_changes``):
        a receiver switched off by a 410 while the form was being filled in or saved stays off unless its
        address was changed, and the re-send to a new address runs for the one save that switched it on."""
        obj.updated_at = timezone.now()
        if not change:
            super().save_model(request, obj, form, change)
            return
        self.check_tenant_managed(request, obj)
        with transaction.atomic():  # the re-sends under the lock that switched the receivers on
            switched_on = policy_save_changes(policy=obj, fields=[*form.changed_fields(), "updated_at"])
            for receiver in switched_on:
                back_on = deliveries_after_switch_on(tenant=obj.tenant, channel=receiver.channel, off_since=receiver.at)
                messages.info(
                    request, f"{receiver.label} notifications are back on: its address changed. {back_on.text()}"
                )


class EventInline(TenantScopedReadOnlyInline):
    model = EscalationEvent
    fields = ("created_at", "kind", "from_status", "to_status", "actor", "detail")


class DeliveryInline(TenantScopedReadOnlyInline):
    model = NotificationDelivery
    fields = ("channel", "status", "attempts", "last_error", "sent_at", "next_attempt_at", "leased_until")


@admin.register(Escalation)
class EscalationAdmin(TenantScopedModelAdmin):
    list_display = ("pk", "tenant", "priority", "status", "mode", "assigned_to", "sla_due_at", "created_at")
    list_filter = ("status", "priority", "mode")
    list_select_related = ("tenant", "assigned_to")
    search_fields = ("reason", "contact_email")
    inlines = [EventInline, DeliveryInline]

    def get_readonly_fields(self, request: HttpRequest, obj: Escalation | None = None) -> list[str]:
        return [field.name for field in Escalation._meta.fields]

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False


@admin.register(NotificationDelivery)
class NotificationDeliveryAdmin(TenantScopedModelAdmin):
    list_display = ("pk", "tenant", "escalation", "channel", "status", "attempts", "updated_at")
    list_filter = ("status", "channel")
    list_select_related = ("tenant", "escalation")
    # Nothing is edited by hand (the retry action is the way to act on one); the tenant least of
    # all: moving a delivery to another tenant would leave its escalation behind.
    readonly_fields = (
        "tenant",
        "escalation",
        "channel",
        "event",
        "status",
        "attempts",
        "last_error",
        "sent_at",
        "next_attempt_at",
        "leased_until",
        "created_at",
        "updated_at",
    )
    actions = ["retry"]

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    @admin.action(description="Retry the selected failed deliveries", permissions=["change"])
    def retry(self, request: HttpRequest, queryset: QuerySet[NotificationDelivery]) -> None:
        """Failed deliveries of tenants the user manages start over (no lease, due now); those of
        tenants the user may only view are left alone."""
        failed = list(queryset.filter(status=DeliveryStatus.FAILED))
        allowed = [delivery.pk for delivery in failed if self.has_change_permission(request, delivery)]
        now = timezone.now()
        NotificationDelivery.objects.filter(pk__in=allowed).update(
            status=DeliveryStatus.PENDING, attempts=0, leased_until=None, next_attempt_at=now, updated_at=now
        )
        for delivery_id in allowed:
            enqueue_delivery(delivery_id)
        skipped = len(failed) - len(allowed)
        not_managed = f" Left {skipped} of tenants you do not manage." if skipped else ""
        messages.info(request, f"Re-queued {len(allowed)} deliveries.{not_managed}")
