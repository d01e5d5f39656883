"""Triggers that read one customer message on its own."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from escalations.graphemes import clip
from escalations.triggers import lexicon
from escalations.triggers.codes import ReasonCode, TriggerHit
from escalations.triggers.normalize import normalize

FRUSTRATION_INDICATORS_NEEDED = 3  # the seed's rule: three or more indicators
_CAPS_WORD = re.compile(r"\b[A-Z]{3,}\b")
_LETTERS = re.compile(r"[^\W\d_]")
EVIDENCE_CHARS = 80


def _evidence(match: re.Match[str]) -> str:
    return clip(match.group(0).strip(), EVIDENCE_CHARS)


def parse_amount(raw: str) -> Decimal | None:
    """``1,250.50`` / ``1.250,50`` / ``1250`` → Decimal; None when it is not a number."""
    raw = raw.strip(".,")
    if "," in raw and "." in raw:
        decimal_mark = "," if raw.rfind(",") > raw.rfind(".") else "."
        thousands = "." if decimal_mark == "," else ","
        raw = raw.replace(thousands, "").replace(decimal_mark, ".")
    elif "," in raw:
        head, _, tail = raw.rpartition(",")
        raw = f"{head.replace(',', '')}.{tail}" if len(tail) == 2 else raw.replace(",", "")
    elif raw.count(".") == 1 and len(raw.rpartition(".")[2]) == 3:
        raw = raw.replace(".", "")  # 1.250 (thousands) rather than 1.25
    try:
        return Decimal(raw)
    except InvalidOperation:
        return None


def largest_amount(normalized: str) -> Decimal | None:
    amounts = [
        amount
        for match in lexicon.AMOUNT.finditer(normalized)
        if (amount := parse_amount(match.group("a") or match.group("b") or "")) is not None
    ]
    return max(amounts) if amounts else None


def frustration_indicators(original: str, normalized: str) -> list[str]:
    """Distinct strong negative words, shouting (all caps) and repeated exclamation marks."""
    indicators = sorted({match.group(0) for match in lexicon.FRUSTRATION_WORDS.finditer(normalized)})
    letters = _LETTERS.findall(original)
    upper = sum(1 for ch in letters if ch.isupper())
    if len(_CAPS_WORD.findall(original)) >= 2 or (len(letters) >= 12 and upper / len(letters) >= 0.7):
        indicators.append("ALL CAPS")
    if lexicon.EXCLAMATIONS.search(original):
        indicators.append("!!!")
    return indicators


def text_hits(text: str, *, billing_threshold: Decimal) -> list[TriggerHit]:
    """Every reason one message gives to escalate, each with the words that fired it."""
    normalized = normalize(text)
    hits: list[TriggerHit] = []
    simple = (
        (ReasonCode.HUMAN_REQUEST, lexicon.HUMAN_REQUEST),
        (ReasonCode.SECURITY, lexicon.SECURITY),
        (ReasonCode.LEGAL, lexicon.LEGAL),
        (ReasonCode.OUTAGE, lexicon.OUTAGE),
        (ReasonCode.REFUND_AUTHORIZATION, lexicon.REFUND_AUTHORIZATION),
    )
    for code, pattern in simple:
        if match := pattern.search(normalized):
            hits.append(TriggerHit(code, _evidence(match)))
    if not lexicon.COMPLAINT_NEGATED.search(normalized) and (match := lexicon.COMPLAINT.search(normalized)):
        hits.append(TriggerHit(ReasonCode.COMPLAINT, _evidence(match)))
    if match := lexicon.BILLING_DISPUTE.search(normalized):
        amount = largest_amount(normalized)
        if amount is not None and amount > billing_threshold:
            hits.append(TriggerHit(ReasonCode.BILLING_DISPUTE, f"{_evidence(match)} ({amount} > {billing_threshold})"))
    indicators = frustration_indicators(text, normalized)
    if len(indicators) >= FRUSTRATION_INDICATORS_NEEDED:
        hits.append(TriggerHit(ReasonCode.FRUSTRATION, ", ".join(indicators)))
    return hits
