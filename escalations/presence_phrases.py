"""What the console says of the customer of a handoff: one phrase a state, defined here only. The server
draws them (the escalation and conversation pages' live region, the queue rows) and the pages hand the same
phrases to their scripts (``{% presence_phrases %}``: a JSON script element read by transcript.js), which say
them as the ``presence`` and ``queue`` frames arrive, with the time in the tenant's zone as ``|clock`` does."""

from __future__ import annotations

from datetime import datetime

from supportai.templatetags.times import clock

IN_THE_CHAT = "Customer in the chat"
LEFT_AT = "Customer left at {time}"
LOST_AT = "Customer connection lost at {time}"
PHRASES = {"here": IN_THE_CHAT, "left": LEFT_AT, "lost": LOST_AT}
PHRASES_ID = "presence-phrases"  # the JSON script element's id on the page


def presence_phrase(*, present: bool | None, left_at: datetime | None, lost_at: datetime | None) -> str:
    """The phrase for a customer ``present`` (True), gone (False: when they ``left_at``, or their connection
    was lost by ``lost_at``) or not known (None: "", nothing is said), its time in the active zone."""
    if present:
        return IN_THE_CHAT
    if present is False and left_at is not None:
        return LEFT_AT.format(time=clock(left_at))
    if present is False and lost_at is not None:
        return LOST_AT.format(time=clock(lost_at))
    return ""
