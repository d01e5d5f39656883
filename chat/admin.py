from __future__ import annotations

from django.contrib import admin

from chat.models import Conversation, ConversationRating, Message, MessageFeedback
from supportai.admin_mixins import TenantScopedModelAdmin, TenantScopedReadOnlyInline


class MessageInline(TenantScopedReadOnlyInline):
    model = Message
    fields = ("role", "text", "status", "tier", "model", "cost_usd", "latency_ms", "created_at")
    show_change_link = True


@admin.register(Conversation)
class ConversationAdmin(TenantScopedModelAdmin):
    list_display = ("pk", "tenant", "channel", "status", "end_user", "started_at", "last_activity_at")
    list_filter = ("status", "channel")
    list_select_related = ("tenant", "end_user")
    readonly_fields = ("started_at", "resume_token_hash")
    raw_id_fields = ("end_user",)
    inlines = [MessageInline]


@admin.register(Message)
class MessageAdmin(TenantScopedModelAdmin):
    list_display = ("pk", "tenant", "conversation", "role", "status", "tier", "model", "cost_usd", "created_at")
    list_filter = ("role", "status", "tier")
    list_select_related = ("tenant", "conversation")
    search_fields = ("text",)
    raw_id_fields = ("conversation", "reply_to", "agent")


@admin.register(MessageFeedback)
class MessageFeedbackAdmin(TenantScopedModelAdmin):
    list_display = ("message", "tenant", "value", "comment", "updated_at")
    list_filter = ("value",)
    list_select_related = ("tenant", "message")
    raw_id_fields = ("message",)


@admin.register(ConversationRating)
class ConversationRatingAdmin(TenantScopedModelAdmin):
    list_display = ("conversation", "tenant", "rating", "comment", "updated_at")
    list_filter = ("rating",)
    list_select_related = ("tenant", "conversation")
    raw_id_fields = ("conversation",)
