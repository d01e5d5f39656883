"""Console pages: conversation list with filters, and one conversation's transcript."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from bookings.console_forms import BookableDateField
from chat.models import Channel, ConversationStatus
from chat.selectors import ConversationFilters, conversation_get, conversation_list, transcript
from escalations.presence import handoff_presence
from supportai.console.tenancy import require_membership

PAGE_SIZE = 25


class ConversationFilterForm(forms.Form):
    status = forms.ChoiceField(choices=[("", "Any status"), *ConversationStatus.choices], required=False)
    channel = forms.ChoiceField(choices=[("", "Any channel"), *Channel.choices], required=False)
    rating = forms.TypedChoiceField(
        choices=[("", "Any rating"), *[(str(n), f"{n} ★") for n in range(1, 6)]],
        coerce=int,
        empty_value=None,
        required=False,
    )
    # Bounded as on the bookings list: near year 1 or 9999 the day's bounds in the tenant's zone overflow.
    date_from = BookableDateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = BookableDateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def filters(self) -> ConversationFilters:
        """The valid fields' filters; invalid fields are left out (the page shows their errors)."""
        self.is_valid()
        data = self.cleaned_data
        return ConversationFilters(
            status=data.get("status") or "",
            channel=data.get("channel") or "",
            rating=data.get("rating"),
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
        )


@login_required
def conversations(request: HttpRequest) -> HttpResponse:
    membership = require_membership(request)
    form = ConversationFilterForm(request.GET or None)
    queryset = conversation_list(tenant=membership.tenant, filters=form.filters() if request.GET else None)
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "chat/console/conversations.html", {"form": form, "page": page, "tenant": membership.tenant})


@login_required
def conversation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    membership = require_membership(request)
    conversation = conversation_get(tenant=membership.tenant, pk=pk)
    if conversation is None:
        raise Http404("No such conversation")
    # Not "messages": that name is the notices of django.contrib.messages, shown by console/base.html.
    turns = list(transcript(tenant=membership.tenant, conversation=conversation))
    totals = {
        "cost": sum((m.cost_usd for m in turns), Decimal("0")),
        "input_tokens": sum(m.input_tokens for m in turns),
        "output_tokens": sum(m.output_tokens for m in turns),
        "cache_write_tokens": sum(m.cache_write_tokens for m in turns),
    }
    rating = getattr(conversation, "rating", None)
    return render(
        request,
        "chat/console/conversation_detail.html",
        {
            "conversation": conversation,
            "turns": turns,
            "totals": totals,
            "rating": rating,
            "tenant": membership.tenant,
            # under handoff: whether the customer is in the chat, as the inbox says it
            "presence": handoff_presence(tenant=membership.tenant, conversation_id=conversation.pk),
        },
    )
