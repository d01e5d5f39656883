"""Human handoff: per-tenant policy (service hours, thresholds, notification targets), escalations,
their audit trail and every notification attempt."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone as django_timezone

from chat.models import Conversation
from supportai.crypto import EncryptedTextField
from supportai.models import EndUser, TenantScopedModel, validate_timezone
from supportai.outbox import OutboxRow


def default_weekly_hours() -> dict[str, list[list[str]]]:
    """The seed's default: weekdays 09:00 to 18:00 (in the policy's time zone)."""
    day = [["09:00", "18:00"]]
    return {"mon": day, "tue": day, "wed": day, "thu": day, "fri": day, "sat": [], "sun": []}


class EscalationPolicy(TenantScopedModel):
    """One per tenant. Without a row the defaults below apply (see ``selectors.policy_for``)."""

    team_name = models.CharField(max_length=100, default="support team")
    timezone = models.CharField(
        max_length=64, blank=True, validators=[validate_timezone], help_text="Blank: the tenant's time zone"
    )
    weekly_hours = models.JSONField(
        default=default_weekly_hours,
        help_text='Opening intervals per day, e.g. {"mon": [["09:00", "12:00"], ["13:00", "18:00"]], "sun": []}',
    )
    holidays = ArrayField(models.DateField(), default=list, blank=True, help_text="Closed all day (local dates)")
    billing_dispute_threshold = models.DecimalField(
        max_digits=12, decimal_places=2, default=Decimal("100.00"), validators=[MinValueValidator(Decimal("0"))]
    )
    sla_minutes_high = models.PositiveIntegerField(default=15)
    sla_minutes_medium = models.PositiveIntegerField(default=60)
    sla_minutes_low = models.PositiveIntegerField(default=240)
    notify_email = models.BooleanField(default=True, help_text="Email the tenant's escalation address")
    slack_webhook_url = EncryptedTextField(blank=True, help_text="Slack incoming-webhook URL (stored encrypted)")
    webhook_url = models.URLField(blank=True, help_text="Generic outbound webhook (JSON POST, HMAC-SHA256 signed)")
    webhook_secret = EncryptedTextField(blank=True, help_text="Signing secret for the webhook (stored encrypted)")
    # A receiver that answered 410 Gone is switched off until staff switch it back on (console inbox).
    slack_disabled_at = models.DateTimeField(
        null=True, blank=True, help_text="When Slack was switched off for answering 410 Gone"
    )
    slack_disabled_reason = models.CharField(max_length=300, blank=True)
    webhook_disabled_at = models.DateTimeField(
        null=True, blank=True, help_text="When the webhook was switched off for answering 410 Gone"
    )
    webhook_disabled_reason = models.CharField(max_length=300, blank=True)
    updated_at = models.DateTimeField(default=django_timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant"], name="escalation_policy_one_per_tenant")]
        verbose_name_plural = "escalation policies"

    def __str__(self) -> str:
        return f"Escalation policy of {self.tenant}"

    def disabled_at(self, channel: str) -> datetime | None:
        """When the channel's receiver was switched off (None: on, or a channel never switched off)."""
        at: datetime | None = getattr(self, f"{channel}_disabled_at", None)
        return at

    def disabled_reason(self, channel: str) -> str:
        reason: str = getattr(self, f"{channel}_disabled_reason", "")
        return reason

    def clean(self) -> None:
        from escalations.hours import parse_weekly

        parse_weekly(self.weekly_hours)


class Priority(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"


PRIORITY_RANK = {Priority.HIGH: 0, Priority.MEDIUM: 1, Priority.LOW: 2}


class Status(models.TextChoices):
    PENDING = "pending", "Pending"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    RESOLVED = "resolved", "Resolved"


class Mode(models.TextChoices):
    LIVE = "live", "Live handoff (in service hours)"
    TICKET = "ticket", "Ticket (out of hours)"


class Resolution(models.TextChoices):
    RESOLVED = "resolved", "Resolved by staff"
    HANDED_BACK = "handed_back", "Handed back to the assistant"


class Escalation(TenantScopedModel):
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="escalations")
    end_user = models.ForeignKey(EndUser, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    contact_email = models.EmailField(blank=True)
    contact_phone = models.CharField(max_length=32, blank=True)
    reason = models.TextField(
        blank=True, help_text="What the customer said or chose (plain text, one line a reason; escalations.reasons)"
    )
    reason_left_out = models.PositiveIntegerField(
        default=0, help_text="Characters of reasons between the first and the latest, counted but not kept"
    )
    reason_codes = ArrayField(models.CharField(max_length=32), default=list)
    evidence = models.JSONField(
        default=list, blank=True, help_text="[{code, evidence}] from the triggers: each code's first and the latest"
    )
    evidence_left_out = models.PositiveIntegerField(
        default=0, help_text="Trigger hits between each code's first and the latest, counted but not kept"
    )
    priority = models.CharField(max_length=8, choices=Priority.choices, default=Priority.MEDIUM)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    mode = models.CharField(max_length=8, choices=Mode.choices, default=Mode.LIVE)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    summary = models.TextField(blank=True, help_text="Recent conversation, plain text (never rendered unescaped)")
    sla_due_at = models.DateTimeField()
    ticket_reference = models.CharField(max_length=128, blank=True)
    created_at = models.DateTimeField(default=django_timezone.now, editable=False)
    updated_at = models.DateTimeField(default=django_timezone.now)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution = models.CharField(max_length=16, choices=Resolution.choices, blank=True)
    resolution_notes = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["conversation"],
                condition=~models.Q(status="resolved"),
                name="escalation_one_open_per_conversation",
            )
        ]
        indexes = [
            models.Index(fields=["tenant", "status"]),
            models.Index(fields=["tenant", "-created_at"]),
            # The waiting line in queue order (selectors.QueueKey): a place in line is a COUNT of the
            # index entries ahead, and only the rows behind a change are read to tell them theirs.
            models.Index(
                fields=["tenant", "priority", "sla_due_at", "created_at", "id"],
                condition=models.Q(status="pending", mode="live"),
                name="escalation_waiting_line",
            ),
        ]

    def __str__(self) -> str:
        return f"Escalation {self.pk} ({self.get_priority_display()}, {self.get_status_display()})"

    @property
    def is_open(self) -> bool:
        return self.status != Status.RESOLVED


class EventKind(models.TextChoices):
    CREATED = "created", "Created"
    UPDATED = "updated", "New trigger"
    CLAIMED = "claimed", "Claimed"
    ASSIGNED = "assigned", "Assigned"
    HANDED_BACK = "handed_back", "Handed back to the assistant"
    RESOLVED = "resolved", "Resolved"


class EscalationEvent(TenantScopedModel):
    """Audit trail: every transition, who made it (null: the system) and when."""

    escalation = models.ForeignKey(Escalation, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=16, choices=EventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    from_status = models.CharField(max_length=16, choices=Status.choices, blank=True)
    to_status = models.CharField(max_length=16, choices=Status.choices)
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=django_timezone.now, editable=False)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.kind} on escalation {self.escalation_id}"


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    SLACK = "slack", "Slack"
    WEBHOOK = "webhook", "Webhook"
    TICKET = "ticket", "Ticket"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RETRYING = "retrying", "Retrying"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class NotificationDelivery(TenantScopedModel, OutboxRow):
    """One notification to one channel; every attempt updates it, so nothing fails silently."""

    escalation = models.ForeignKey(Escalation, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(max_length=16, choices=Channel.choices)
    event = models.CharField(max_length=16, choices=EventKind.choices, default=EventKind.CREATED)
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    last_error = models.TextField(blank=True)
    updated_at = models.DateTimeField(default=django_timezone.now)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "notification deliveries"
        indexes = [models.Index(fields=["tenant", "status"]), models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.channel} for escalation {self.escalation_id}: {self.status}"


class WaitingLine(models.Model):
    """A tenant's waiting line's version: raised by every change to the line (a live raise, a claim, an
    assignment, a close) in its transaction, under the line's lock, so a version read together with places
    names the state they were counted in. It orders the places told (``escalation`` frame ``version``).
    One row per tenant, made by the first change; not in admin (nothing to edit)."""

    tenant = models.OneToOneField("supportai.Tenant", primary_key=True, on_delete=models.CASCADE, related_name="+")
    version = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"Waiting line of tenant {self.tenant_id}, version {self.version}"
