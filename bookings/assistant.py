"""The assistant's booking tools: JSON schemas for the routing layer and their execution.

Read-only tools (``list_services``, ``check_availability``, ``get_booking``) return JSON that is fed
back to the model. Tools that would change something (``create_booking``, ``cancel_booking``,
``reschedule_booking``) only create a proposal: the customer sees it as a ``proposal`` frame and
nothing happens until they press Confirm (``proposal.confirm``). No tool can confirm a proposal,
and every booking-specific tool needs the confirmation code AND the email, attempt-limited —
so a prompt injection can at most make the assistant *suggest* something to the customer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from bookings import actions, proposals
from bookings.dates import bookable_range_message, is_bookable_date
from bookings.models import Proposal, Service
from bookings.services import BookingError
from chat.models import Conversation
from knowledge.parsed import UNSTORABLE
from routing.contracts import ToolCall, ToolResult, ToolSpec
from routing.language import DEFAULT
from supportai.memo import TenantMemo
from supportai.models import Tenant

MAX_SLOT_DAYS = 7
START_HELP = "Local start time as YYYY-MM-DDTHH:MM, exactly as returned by check_availability."
OWNER_PROPS = {
    "confirmation_code": {"type": "string", "description": "The booking's confirmation code, e.g. BK-7KQ4MX."},
    "email": {"type": "string", "description": "The email address the booking was made with."},
}

TOOL_SPECS: tuple[ToolSpec, ...] = (
    ToolSpec(
        "list_services",
        "List the services that can be booked, with duration, price and payment (online, or on_arrival: at the venue).",
        {"type": "object", "properties": {}, "additionalProperties": False},
    ),
    ToolSpec(
        "check_availability",
        "Free start times of a service, in the business's time zone.",
        {
            "type": "object",
            "properties": {
                "service_id": {"type": "integer"},
                "date": {"type": "string", "description": "First day to search, YYYY-MM-DD."},
                "days": {"type": "integer", "minimum": 1, "maximum": MAX_SLOT_DAYS},
            },
            "required": ["service_id", "date"],
            "additionalProperties": False,
        },
    ),
    ToolSpec(
        "create_booking",
        "Propose a booking. The customer must confirm it in the chat; nothing is booked before that.",
        {
            "type": "object",
            "properties": {
                "service_id": {"type": "integer"},
                "start": {"type": "string", "description": START_HELP},
                "name": {"type": "string"},
                "email": {"type": "string"},
                "notes": {"type": "string"},
            },
            "required": ["service_id", "start", "name", "email"],
            "additionalProperties": False,
        },
    ),
    ToolSpec(
        "get_booking",
        "Look up a booking. Needs the confirmation code and the booking's email from the customer.",
        {"type": "object", "properties": OWNER_PROPS, "required": ["confirmation_code", "email"]},
    ),
    ToolSpec(
        "cancel_booking",
        "Propose canceling a booking (code and email required). The customer must confirm it in the chat.",
        {
            "type": "object",
            "properties": {**OWNER_PROPS, "reason": {"type": "string"}},
            "required": ["confirmation_code", "email"],
        },
    ),
    ToolSpec(
        "reschedule_booking",
        "Propose moving a booking to a new start time (code and email required); the customer must confirm.",
        {
            "type": "object",
            "properties": {**OWNER_PROPS, "new_start": {"type": "string", "description": START_HELP}},
            "required": ["confirmation_code", "email", "new_start"],
        },
    ),
)
DATE_OUT_OF_RANGE = "A date or time in the arguments is out of range."
AWAITING = "Proposed. The customer must press Confirm in the chat; tell them what will happen and wait."


# A booking error's field under the name the tool's argument has, where the two differ.
TOOL_ARGUMENTS = {("reschedule_booking", "start"): "new_start"}


class ToolArgumentError(Exception):
    """A tool call's argument is missing or unusable; ``field`` names it."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class ToolStep:
    """Results for the model and frames for the widget (proposals) from one round of tool calls."""

    results: tuple[ToolResult, ...]
    frames: tuple[dict[str, Any], ...]


def _bookable_tools(tenant: Tenant) -> tuple[ToolSpec, ...]:
    return TOOL_SPECS if Service.objects.for_tenant(tenant).filter(active=True).exists() else ()


_TOOLS = TenantMemo(_bookable_tools, invalidated_by=["bookings.Service"])


def tools_for(*, tenant: Tenant) -> tuple[ToolSpec, ...]:
    """The booking tools, offered only to tenants with something to book (read on every turn: memoized)."""
    return _TOOLS.get(tenant)


def _arg(arguments: dict[str, Any], key: str, kind: type, *, required: bool = True) -> Any:
    value = arguments.get(key)
    if value is None and not required:
        return kind()
    if isinstance(value, bool) or not isinstance(value, kind):
        raise ToolArgumentError(f"'{key}' must be a {kind.__name__}", field=key)
    if isinstance(value, str) and len(value) > 500:
        raise ToolArgumentError(f"'{key}' is too long", field=key)
    if isinstance(value, str) and UNSTORABLE.search(value):  # PostgreSQL would refuse it and fail the whole answer
        raise ToolArgumentError(f"'{key}' must be plain text", field=key)
    return value


def _proposed(proposal: Proposal) -> tuple[dict[str, Any], dict[str, Any]]:
    result = {"status": "awaiting_customer_confirmation", "summary": proposal.summary, "note": AWAITING}
    return result, proposals.proposal_frame(proposal)


def _run(
    tenant: Tenant, conversation: Conversation, ip: str, name: str, args: dict[str, Any], language: str
) -> tuple[Any, dict[str, Any] | None]:
    if name == "list_services":
        return actions.list_services(tenant=tenant), None
    if name == "check_availability":
        try:
            first_day = date.fromisoformat(_arg(args, "date", str))
        except ValueError:
            raise ToolArgumentError("'date' must be YYYY-MM-DD", field="date") from None
        if not is_bookable_date(first_day):
            raise ToolArgumentError(bookable_range_message(), field="date")
        days = args.get("days", 1)
        days = max(1, min(days, MAX_SLOT_DAYS)) if isinstance(days, int) and not isinstance(days, bool) else 1
        return actions.list_slots(
            tenant=tenant, service_id=_arg(args, "service_id", int), first_day=first_day, days=days
        ), None
    if name == "get_booking":
        return actions.lookup(
            tenant=tenant,
            conversation=conversation,
            code=_arg(args, "confirmation_code", str),
            email=_arg(args, "email", str),
            ip=ip,
        ), None
    if name == "create_booking":
        proposal = actions.propose_book(
            tenant=tenant,
            conversation=conversation,
            service_id=_arg(args, "service_id", int),
            start=_arg(args, "start", str),
            name=_arg(args, "name", str),
            email=_arg(args, "email", str),
            notes=_arg(args, "notes", str, required=False),
            language=language,
        )
    elif name == "cancel_booking":
        proposal = actions.propose_cancel(
            tenant=tenant,
            conversation=conversation,
            code=_arg(args, "confirmation_code", str),
            email=_arg(args, "email", str),
            reason=_arg(args, "reason", str, required=False),
            ip=ip,
            language=language,
        )
    elif name == "reschedule_booking":
        proposal = actions.propose_reschedule(
            tenant=tenant,
            conversation=conversation,
            code=_arg(args, "confirmation_code", str),
            email=_arg(args, "email", str),
            start=_arg(args, "new_start", str),
            ip=ip,
            language=language,
        )
    else:
        raise ToolArgumentError(f"unknown tool {name[:40]!r}", field="")
    return _proposed(proposal)


def _error_result(tool: str, exc: Exception) -> dict[str, str]:
    """``{"error": what to tell the customer, "field": the argument that is wrong (when one is)}``."""
    if isinstance(exc, BookingError | ToolArgumentError):
        field = TOOL_ARGUMENTS.get((tool, exc.field), exc.field)
        message = exc.message if isinstance(exc, BookingError) else str(exc)
        return {"error": message, "field": field} if field else {"error": message}
    # Date arithmetic past year 9999 the argument checks did not foresee: still the model's error.
    return {"error": DATE_OUT_OF_RANGE if isinstance(exc, OverflowError) else str(exc)}


def run_tool_calls(
    *, tenant: Tenant, conversation: Conversation, ip: str, calls: tuple[ToolCall, ...], language: str = DEFAULT
) -> ToolStep:
    """Run one round of calls; every failure becomes an error result for the model, never an exception.

    ``ip`` is the customer's client address (their ownership proofs count toward its limit; "" if unknown);
    ``language`` the customer's, that of a proposal's summary (the model reads the tools' results in English
    otherwise)."""
    results, frames = [], []
    for call in calls:
        try:
            output, frame = _run(tenant, conversation, ip, call.name, dict(call.arguments), language)
            results.append(ToolResult(call.id, call.name, json.dumps(output)))
            if frame is not None:
                frames.append(frame)
        except (BookingError, ToolArgumentError, OverflowError) as exc:
            results.append(ToolResult(call.id, call.name, json.dumps(_error_result(call.name, exc)), is_error=True))
    return ToolStep(tuple(results), tuple(frames))
