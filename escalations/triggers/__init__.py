"""Escalation triggers: decide from a customer turn (and its conversation) whether a human is needed.

``text_hits`` looks at one message alone (pure, used by the evaluation command); ``turn_hits`` adds
what only the conversation knows (thumbs down, "that didn't help", repeated questions, unanswered
questions). Both return ``TriggerHit`` values: a reason code and the evidence that fired it.
"""

from escalations.triggers.codes import ReasonCode, TriggerHit
from escalations.triggers.text import text_hits

__all__ = ["ReasonCode", "TriggerHit", "text_hits"]
