"""Reason codes and the evidence a trigger leaves behind."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ReasonCode(StrEnum):
    CUSTOMER_REQUEST = "customer_request"  # the widget's "Talk to a human" button / escalate frame
    HUMAN_REQUEST = "human_request"  # the customer wrote that they want a person
    FRUSTRATION = "frustration"
    BILLING_DISPUTE = "billing_dispute"
    SECURITY = "security"
    REPEATED_FAILURE = "repeated_failure"
    COMPLAINT = "complaint"
    LEGAL = "legal"
    REFUND_AUTHORIZATION = "refund_authorization"
    OUTAGE = "outage"
    NO_ANSWER = "no_answer"


@dataclass(frozen=True)
class TriggerHit:
    code: ReasonCode
    evidence: str
