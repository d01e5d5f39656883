"""What an executed proposal's ``proposal.result`` says in the customer's language (``proposals.decision_frame``):
its ``message`` and, for a booking paid at the venue, its ``pay_terms`` (docs/websocket-protocol.md)."""

from __future__ import annotations

from typing import Any

from bookings.models import BookingStatus, PaymentMode, ProposalAction
from bookings.phrases import BookingText


def executed_said(frame: dict[str, Any], language: str) -> dict[str, str]:
    """What an executed result says in ``language``: its ``message`` (English as the widget said it before
    servers sent one), and for a paid booking paid at the venue its ``pay_terms``."""
    if frame["action"] == ProposalAction.CANCEL:
        return {"message": BookingText.CANCELED.say(language)}
    if frame["action"] == ProposalAction.RESCHEDULE:
        return {"message": BookingText.MOVED.say(language, when=frame.get("start_local", ""))}
    held = frame.get("booking_status") == BookingStatus.PENDING
    text = BookingText.HELD_UNTIL_PAID if held else BookingText.BOOKED
    said = {"message": text.say(language, code=frame.get("confirmation_code", ""))}
    if frame.get("payment") == PaymentMode.ON_ARRIVAL and (frame.get("price_cents") or 0) > 0 and "price" in frame:
        said["pay_terms"] = BookingText.PRICE_AT_VENUE.say(language, price=frame["price"])
    return said
