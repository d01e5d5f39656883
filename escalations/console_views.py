"""Console inbox pages (``/console/inbox/``): live queue, one escalation with its transcript, actions.

The live queue shows its ``QUEUE_LIMIT`` most urgent rows and counts the rest; the ticket backlog
(out-of-hours escalations waiting for an email reply) is apart, paged by ``?tickets=<page>``.

Agents, admins and owners act; analysts read. Once an agent holds an escalation, only they reply, and only
they or an owner or admin reassign or close it (``staff.may_move``; anyone else is refused with a message).
Every action is also a CSRF-protected POST form, so the inbox works without the websocket (the JS uses the
socket when it is up).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from escalations import services, staff
from escalations.inbox import LiveQueue, can_act, inbox_membership, live_queue, ticket_backlog, transcript_rows
from escalations.models import Escalation
from escalations.notifications.dispatch import receiver_back_on
from escalations.notifications.gone import LABELS, SWITCHABLE, NoReceiver, switched_off
from escalations.presence import CustomerPresence, customer_presence
from escalations.realtime import publish_committed_sync
from escalations.selectors import escalation_get, policy_for
from supportai.console.tenancy import require_membership
from supportai.models import MANAGER_ROLES, Membership

NOT_INBOX_ROLE = "Your role in this tenant does not include the inbox."
READ_ONLY = "Analysts can read the inbox but not act on it."
NOT_MANAGER = "Only owners and admins of this tenant can switch notifications back on."
NO_RECEIVER = (
    "{label} has no address to switch back on: enter one in the escalation policy admin, which switches it back on."
)


def _membership(request: HttpRequest) -> Membership:
    current = require_membership(request)
    membership = inbox_membership(user=request.user, tenant_id=current.tenant_id)
    if membership is None:
        raise PermissionDenied(NOT_INBOX_ROLE)
    return membership


def _escalation(membership: Membership, pk: int) -> Escalation:
    escalation = escalation_get(tenant=membership.tenant, pk=pk)
    if escalation is None:  # absent or another tenant's: the same 404
        raise Http404("No such escalation")
    return escalation


def _held_by_another(membership: Membership, escalation: Escalation | None) -> bool:
    return escalation is not None and escalation.assigned_to_id not in (None, membership.user_id)


def _page(request: HttpRequest, membership: Membership, selected: Escalation | None) -> HttpResponse:
    """The forms shown are those ``staff`` allows: only the holder replies to an escalation someone
    holds, and only the holder or an owner/admin reassigns or closes it (``staff.may_move``). An open
    escalation's page says whether its customer is in the chat as it stands (``presence``), as the
    live ``presence`` frames then do."""
    held_by_another = _held_by_another(membership, selected)
    may_move = selected is None or staff.may_move(membership=membership, escalation=selected)
    queue = live_queue(tenant=membership.tenant)
    context: dict[str, Any] = {
        "tenant": membership.tenant,
        "can_act": can_act(membership),
        "held_by_another": held_by_another,
        "can_reply": not held_by_another,
        "can_assign": may_move,
        "can_close": may_move,
        "is_manager": membership.role in MANAGER_ROLES,
        "queue": queue.rows,
        "queue_more": queue.more,
        "backlog": ticket_backlog(tenant=membership.tenant, page=request.GET.get("tickets")),
        "selected": selected,
        "transcript": transcript_rows(tenant=membership.tenant, escalation=selected) if selected else [],
        "presence": _presence(membership, selected, queue),
        "events": list(selected.events.select_related("actor")) if selected else [],
        "switched_off": switched_off(policy_for(tenant=membership.tenant)),
        "can_switch_on": membership.role in MANAGER_ROLES,
        "staff": list(
            Membership.objects.filter(
                tenant=membership.tenant, role__in=["owner", "admin", "agent"], user__is_active=True
            )
            .select_related("user")
            .order_by("user__username")
        )
        if selected
        else [],
    }
    return render(request, "escalations/inbox.html", context)


def _presence(membership: Membership, selected: Escalation | None, queue: LiveQueue) -> CustomerPresence | None:
    """Whether the open escalation's customer is in the chat: as its queue row says, else read."""
    if selected is None or not selected.is_open:
        return None
    conversation_id = selected.conversation_id
    if conversation_id in queue.presence:
        return queue.presence[conversation_id]
    return customer_presence(tenant=membership.tenant, conversation_ids=[conversation_id])[conversation_id]


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    return _page(request, _membership(request), None)


@login_required
def inbox_detail(request: HttpRequest, pk: int) -> HttpResponse:
    membership = _membership(request)
    return _page(request, membership, _escalation(membership, pk))


@login_required
@require_POST
def switch_on(request: HttpRequest, channel: str) -> HttpResponse:
    """Switch a receiver that answered 410 Gone back on (owners and admins: the policy is theirs)."""
    membership = _membership(request)
    if channel not in SWITCHABLE:
        raise Http404("No such notification channel")
    if membership.role not in MANAGER_ROLES:
        raise PermissionDenied(NOT_MANAGER)
    try:
        back_on = receiver_back_on(tenant=membership.tenant, channel=channel)
    except NoReceiver:
        messages.error(request, NO_RECEIVER.format(label=LABELS[channel]))
        return redirect("escalations_console:inbox")
    if back_on is not None:
        messages.success(request, f"{LABELS[channel]} notifications are back on. {back_on.text()}")
    return redirect("escalations_console:inbox")


class ReplyForm(forms.Form):
    text = forms.CharField(max_length=staff.MAX_REPLY_CHARS, strip=True)


class NotesForm(forms.Form):
    notes = forms.CharField(max_length=5000, required=False)


class AssignForm(forms.Form):
    user_id = forms.IntegerField(min_value=1)


class Done(NamedTuple):
    """What an action publishes once committed, and the notice that says on the reloaded page what it did."""

    publications: list[Any]
    notice: str
    then: str = ""  # the notice's extra tags: "then-reply" sends the focus on to the reply box (notice_focus.js)


Action = Callable[[HttpRequest, Membership, Escalation], Done]


def _action(run: Action) -> Callable[[HttpRequest, int], HttpResponse]:
    @login_required
    @require_POST
    def view(request: HttpRequest, pk: int) -> HttpResponse:
        membership = _membership(request)
        if not can_act(membership):
            raise PermissionDenied(READ_ONLY)
        escalation = _escalation(membership, pk)
        try:
            done = run(request, membership, escalation)
        except services.EscalationError as exc:
            messages.error(request, exc.message)
        except forms.ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            publish_committed_sync(done.publications)
            messages.success(request, done.notice, extra_tags=done.then)
        return redirect("escalations_console:detail", pk=pk)

    view.__name__ = run.__name__
    return view


def _valid(form: forms.Form) -> dict[str, Any]:
    if not form.is_valid():
        raise forms.ValidationError([e for errors in form.errors.values() for e in errors])
    return form.cleaned_data


def _claim(request: HttpRequest, membership: Membership, escalation: Escalation) -> Done:
    published = staff.escalation_claim(tenant=membership.tenant, escalation_id=escalation.pk, actor=membership.user)
    return Done(published, f"You hold escalation #{escalation.pk} now: you reply to the customer.", then="then-reply")


def _reply(request: HttpRequest, membership: Membership, escalation: Escalation) -> Done:
    text = _valid(ReplyForm(request.POST))["text"]
    reply = staff.agent_reply(tenant=membership.tenant, escalation_id=escalation.pk, actor=membership.user, text=text)
    return Done(reply.publications, f"Your reply to escalation #{escalation.pk} is sent.")


def _hand_back(request: HttpRequest, membership: Membership, escalation: Escalation) -> Done:
    notes = _valid(NotesForm(request.POST))["notes"]
    published = staff.escalation_hand_back(
        tenant=membership.tenant, escalation_id=escalation.pk, actor=membership.user, notes=notes
    )
    return Done(published, f"Escalation #{escalation.pk} is handed back to the assistant.")


def _resolve(request: HttpRequest, membership: Membership, escalation: Escalation) -> Done:
    notes = _valid(NotesForm(request.POST))["notes"]
    published = staff.escalation_resolve(
        tenant=membership.tenant, escalation_id=escalation.pk, actor=membership.user, notes=notes
    )
    return Done(published, f"Escalation #{escalation.pk} is resolved.")


def _assign(request: HttpRequest, membership: Membership, escalation: Escalation) -> Done:
    user_id = _valid(AssignForm(request.POST))["user_id"]
    target = Membership.objects.filter(tenant=membership.tenant, user_id=user_id).select_related("user").first()
    if target is None:
        raise forms.ValidationError("Assign to a member of this tenant.")
    published = staff.escalation_assign(
        tenant=membership.tenant, escalation_id=escalation.pk, actor=membership.user, assignee=target.user
    )
    return Done(published, f"Escalation #{escalation.pk} is {target.user.get_username()}'s now.")


claim = _action(_claim)
reply = _action(_reply)
hand_back = _action(_hand_back)
resolve = _action(_resolve)
assign = _action(_assign)
