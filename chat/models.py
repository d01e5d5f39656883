"""Conversations between a tenant's customers and the assistant (and, on handoff, staff)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone

from escalations.graphemes import clip
from supportai.models import EndUser, TenantScopedModel


class Channel(models.TextChoices):
    WEB = "web", "Web widget"
    WHATSAPP = "whatsapp", "WhatsApp"
    SLACK = "slack", "Slack"
    SMS = "sms", "SMS"
    VOICE = "voice", "Voice"
    API = "api", "HTTP API"


class Modality(models.TextChoices):
    TEXT = "text", "Text"
    VOICE = "voice", "Voice"
    SCREEN_SHARE = "screen_share", "Screen share"
    VIDEO = "video", "Video"


class ConversationStatus(models.TextChoices):
    OPEN = "open", "Open"
    RESOLVED = "resolved", "Resolved"
    ESCALATED = "escalated", "Escalated"
    ABANDONED = "abandoned", "Abandoned"


class Conversation(TenantScopedModel):
    end_user = models.ForeignKey(EndUser, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    channel = models.CharField(max_length=16, choices=Channel.choices, default=Channel.WEB)
    modality = models.CharField(max_length=16, choices=Modality.choices, default=Modality.TEXT)
    status = models.CharField(max_length=16, choices=ConversationStatus.choices, default=ConversationStatus.OPEN)
    resolution_outcome = models.CharField(max_length=32, blank=True)
    resolution_rule = models.CharField(max_length=64, blank=True, help_text="The documented rule that set the outcome")
    experiment_variant = models.CharField(max_length=64, blank=True)
    origin = models.CharField(max_length=255, blank=True)
    resume_token_hash = models.CharField(max_length=64, unique=True, editable=False)
    started_at = models.DateTimeField(default=timezone.now, editable=False)
    last_activity_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-last_activity_at"]
        indexes = [
            models.Index(fields=["tenant", "-last_activity_at"]),
            models.Index(fields=["tenant", "status"]),
        ]

    def __str__(self) -> str:
        return f"Conversation {self.pk} ({self.get_status_display()})"


class MessageRole(models.TextChoices):
    CUSTOMER = "customer", "Customer"
    ASSISTANT = "assistant", "Assistant"
    AGENT = "agent", "Agent"
    SYSTEM = "system", "System"


class MessageStatus(models.TextChoices):
    STREAMING = "streaming", "Streaming"
    COMPLETE = "complete", "Complete"
    INTERRUPTED = "interrupted", "Interrupted"
    FAILED = "failed", "Failed"


class Message(TenantScopedModel):
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    role = models.CharField(max_length=16, choices=MessageRole.choices)
    text = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=MessageStatus.choices, default=MessageStatus.COMPLETE)
    client_id = models.CharField(max_length=64, blank=True, help_text="Client-chosen id that makes resends idempotent")
    answer_claimed_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="When a server began answering this customer message"
    )
    reply_to = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replies")
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sources = models.JSONField(default=list, blank=True)
    tier = models.PositiveSmallIntegerField(null=True, blank=True)
    provider = models.CharField(max_length=32, blank=True)
    model = models.CharField(max_length=100, blank=True)
    confidence = models.FloatField(null=True, blank=True)
    outcome = models.CharField(max_length=32, blank=True)
    used_tools = models.BooleanField(
        default=False, help_text="The answer ran tools (services, availability, bookings): it is no knowledge gap"
    )
    input_tokens = models.PositiveIntegerField(default=0)
    output_tokens = models.PositiveIntegerField(default=0)
    cache_write_tokens = models.PositiveIntegerField(default=0, help_text="Input tokens written to a prompt cache")
    cost_usd = models.DecimalField(max_digits=12, decimal_places=6, default=Decimal("0"))
    time_to_first_token_ms = models.FloatField(null=True, blank=True)
    latency_ms = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "client_id"],
                condition=~models.Q(client_id=""),
                name="message_unique_client_id_per_conversation",
            )
        ]
        indexes = [
            # The abandoned-reply sweep (chat.services.replies_finish_abandoned) reads only streaming rows:
            # a handful, in a table of every message ever sent.
            models.Index(
                fields=["created_at"],
                condition=models.Q(status="streaming"),
                name="message_streaming_created_at",
            )
        ]

    def __str__(self) -> str:
        return f"{self.role}: {clip(self.text, 60)}"


class FeedbackValue(models.TextChoices):
    UP = "up", "Helpful"
    DOWN = "down", "Not helpful"


class MessageFeedback(TenantScopedModel):
    message = models.OneToOneField(Message, on_delete=models.CASCADE, related_name="feedback")
    value = models.CharField(max_length=8, choices=FeedbackValue.choices)
    comment = models.TextField(blank=True, max_length=1000)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.value} on message {self.message_id}"


class ConversationRating(TenantScopedModel):
    conversation = models.OneToOneField(Conversation, on_delete=models.CASCADE, related_name="rating")
    rating = models.PositiveSmallIntegerField()
    comment = models.TextField(blank=True, max_length=2000)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(rating__gte=1, rating__lte=5), name="rating_between_1_and_5")
        ]

    def __str__(self) -> str:
        return f"{self.rating}/5 for conversation {self.conversation_id}"
