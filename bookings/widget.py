"""The consumer's entry points for booking frames and proposal decisions (run in a worker thread).

Also used by the HTTP fallback (``bookings.public_api``) and on resume (``open_proposal_frames``).
Each returns the frames to send back; booking problems become the protocol's ``ProtocolError``
so the socket stays open with a clear ``error`` frame.
"""

from __future__ import annotations

from typing import Any

from bookings import actions, proposals, services
from bookings.phrases import BookingText
from bookings.protocol import (
    BookingFrame,
    ListServices,
    ListSlots,
    Lookup,
    ProposeBooking,
    ProposeCancel,
    ProposeReschedule,
)
from bookings.selectors import proposal_list_open
from bookings.services import BookingError
from chat.models import Conversation
from chat.protocol import ErrorCode, ProtocolError
from routing.language import DEFAULT
from supportai.models import Tenant

ERROR_CODES = {
    services.NOT_FOUND: ErrorCode.NOT_FOUND,
    actions.RATE_LIMITED: ErrorCode.RATE_LIMITED,
    actions.UNAVAILABLE: ErrorCode.UNAVAILABLE,
    proposals.PAYMENT_UNAVAILABLE: ErrorCode.UNAVAILABLE,
}


def protocol_error(exc: BookingError) -> ProtocolError:
    """The protocol's error for ``exc``, said in the customer's language where it becomes a frame or a body."""
    code = ERROR_CODES.get(exc.code, ErrorCode.BAD_REQUEST)
    return ProtocolError(code, exc.message, text=exc.text, params=exc.params, field=exc.field)


def _frames(
    tenant: Tenant, conversation: Conversation, command: BookingFrame, ip: str, language: str
) -> list[dict[str, Any]]:
    if isinstance(command, ListServices):
        return [{"type": "booking.services", "services": actions.list_services(tenant=tenant)}]
    if isinstance(command, ListSlots):
        slots = actions.list_slots(
            tenant=tenant, service_id=command.service_id, first_day=command.date, days=command.days, language=language
        )
        return [{"type": "booking.slots", "date": command.date.isoformat(), **slots}]
    if isinstance(command, Lookup):
        booking = actions.lookup(
            tenant=tenant, conversation=conversation, ip=ip, code=command.code, email=command.email, language=language
        )
        return [{"type": "booking.detail", "booking": booking}]
    if isinstance(command, ProposeBooking):
        proposal = actions.propose_book(
            tenant=tenant,
            conversation=conversation,
            service_id=command.service_id,
            start=command.start,
            name=command.name,
            email=command.email,
            notes=command.notes,
            language=language,
        )
    elif isinstance(command, ProposeCancel):
        proposal = actions.propose_cancel(
            tenant=tenant,
            conversation=conversation,
            ip=ip,
            code=command.code,
            email=command.email,
            reason=command.reason,
            language=language,
        )
    elif isinstance(command, ProposeReschedule):
        proposal = actions.propose_reschedule(
            tenant=tenant,
            conversation=conversation,
            ip=ip,
            code=command.code,
            email=command.email,
            start=command.start,
            language=language,
        )
    else:
        raise ProtocolError.of(ErrorCode.BAD_REQUEST, BookingText.UNKNOWN_FRAME)
    return [proposals.proposal_frame(proposal)]


def handle_booking_frame(
    *, tenant: Tenant, conversation: Conversation, command: BookingFrame, ip: str, language: str = DEFAULT
) -> list[dict[str, Any]]:
    """The frames answering ``command``; what they say to the customer (labels, a proposal's summary) in
    ``language``."""
    try:
        return _frames(tenant, conversation, command, ip, language)
    except BookingError as exc:
        raise protocol_error(exc) from None


def handle_proposal_decision(
    *, tenant: Tenant, conversation: Conversation, proposal_id: str, confirm: bool, language: str = DEFAULT
) -> dict[str, Any]:
    """``proposal.confirm`` / ``proposal.reject`` → the ``proposal.result`` frame, its message in ``language``."""
    try:
        if confirm:
            decision = proposals.proposal_execute(tenant=tenant, conversation=conversation, public_id=proposal_id)
        else:
            decision = proposals.proposal_reject(tenant=tenant, conversation=conversation, public_id=proposal_id)
    except BookingError as exc:
        raise protocol_error(exc) from None
    return proposals.decision_frame(decision, language)


# Open proposals a resumed widget is sent again. A customer has one or two; a client that proposed
# more (a booking.propose frame each, with other notes) would otherwise make every resume send and
# read them all, however often it resumes.
RESUME_PROPOSALS = 20


def open_proposal_frames(*, tenant: Tenant, conversation: Conversation) -> list[dict[str, Any]]:
    """A ``proposal`` frame for each of the ``RESUME_PROPOSALS`` newest proposals the customer can still
    confirm, oldest first (sent again on resume)."""
    newest = proposal_list_open(tenant=tenant, conversation=conversation).reverse()[:RESUME_PROPOSALS]
    return [proposals.proposal_frame(proposal) for proposal in reversed(newest)]
