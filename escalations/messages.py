"""What the customer is told at each step of a handoff (the seed's handoff line, in our words)."""

from __future__ import annotations

from datetime import datetime

from escalations.hours import ServiceHours


def _when(at: datetime, hours: ServiceHours) -> str:
    local = hours.local(at)
    return f"{local:%A} {local:%H:%M} ({local.tzname()})"


def live_handoff(*, team: str, position: int | None) -> str:
    line = f"I understand this needs a person's attention, so I'm bringing in our {team}. They'll be with you shortly."
    if position:
        line += f" You're number {position} in line; you can keep writing here in the meantime."
    return line


def ticket_handoff(*, team: str, reply_by: datetime, hours: ServiceHours, email: str) -> str:
    line = (
        f"I understand this needs a person's attention. Our {team} is offline right now, so I've passed your "
        f"conversation on: expect a reply by {_when(reply_by, hours)}"
    )
    if email:
        return line + f", by email to {email}."
    return line + ". Leave your email address here so they can reply by email."


def already_waiting(*, team: str, position: int | None) -> str:
    if position:
        return f"You're already in line for our {team}: number {position}. They'll be with you shortly."
    return f"Our {team} already has your request and will reply here."


def email_noted(*, email: str) -> str:
    return f"Thanks, our team will reply to {email}."


def acknowledged(*, agent_name: str) -> str:
    return f"{agent_name} from our team has joined the conversation."


def handed_back() -> str:
    return "You're back with the assistant. Ask me anything, or ask for a person again at any time."


def resolved() -> str:
    return "Our team has marked this conversation as resolved. Thanks for your patience!"


def paused_for_human(*, team: str) -> str:
    return f"Your message has been passed to our {team}."
