"""Offline evaluation of the text triggers over labelled lines, and the Bitext converter.

A line is ``{"text": str, "escalate": bool, "reason"?: str, "group"?: str}``. ``reason`` names the
reason code the line should fire (when known); ``group`` is a free label (Bitext's intent) used to
report escalation rates per group.
"""

from __future__ import annotations

import csv
import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from escalations.triggers import ReasonCode, text_hits
from supportai.datasets import SPLITS, split_of

BITEXT_ESCALATE = {"contact_human_agent": ReasonCode.HUMAN_REQUEST, "complaint": ReasonCode.COMPLAINT}
# Asking for customer service's contact details is neither an ordinary question nor an explicit request for a
# person in this chat; it is reported on its own and left out of both figures.
BITEXT_AMBIGUOUS = frozenset({"contact_customer_service"})
DEFAULT_THRESHOLD = Decimal("100")


class EvaluationError(Exception):
    pass


@dataclass(frozen=True)
class Line:
    text: str
    escalate: bool
    reason: str = ""
    group: str = ""


def bitext_lines(csv_path: Path, *, split: str = "all") -> Iterator[dict[str, Any]]:
    if split not in SPLITS:
        raise EvaluationError(f"split must be one of {', '.join(SPLITS)}")
    with csv_path.open(newline="", encoding="utf-8-sig") as handle:  # Excel writes a byte order mark
        reader = csv.DictReader(handle)
        try:
            yield from _bitext_rows(reader, csv_path, split)
        except csv.Error as exc:
            raise EvaluationError(f"{csv_path} is not a readable CSV: {exc}") from None


def _bitext_rows(reader: csv.DictReader[str], csv_path: Path, split: str) -> Iterator[dict[str, Any]]:
    if not {"instruction", "intent"} <= set(reader.fieldnames or ()):
        raise EvaluationError(f"{csv_path} has no 'instruction' and 'intent' columns (is it the Bitext CSV?)")
    for row in reader:  # a short row's missing cells are None
        text, intent = (row["instruction"] or "").strip(), (row["intent"] or "").strip()
        if not text or (split != "all" and split_of(text) != split):
            continue
        reason = BITEXT_ESCALATE.get(intent)
        yield {
            "text": text,
            "escalate": reason is not None,
            "reason": reason.value if reason else "",
            "group": intent,
            "ambiguous": intent in BITEXT_AMBIGUOUS,
        }


def read_jsonl(path: Path) -> list[Line]:
    try:
        with path.open(encoding="utf-8") as handle:
            lines = _jsonl_lines(handle)
    except UnicodeDecodeError:
        raise EvaluationError(f"{path} is not UTF-8 text") from None
    except OSError as exc:
        raise EvaluationError(f"{path} could not be read: {exc.strerror or exc}") from exc
    if not lines:
        raise EvaluationError(f"{path} has no lines")
    return lines


def _jsonl_lines(handle: Iterable[str]) -> list[Line]:
    lines: list[Line] = []
    for number, raw in enumerate(handle, start=1):
        if not raw.strip():
            continue
        try:
            item = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise EvaluationError(f"line {number}: not JSON ({exc.msg})") from None
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            raise EvaluationError(f"line {number}: needs a string 'text'")
        if not isinstance(item.get("escalate"), bool):
            raise EvaluationError(f"line {number}: needs a boolean 'escalate'")
        if item.get("ambiguous"):
            continue
        lines.append(Line(item["text"], item["escalate"], str(item.get("reason") or ""), str(item.get("group") or "")))
    return lines


def _ratio(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def evaluate(lines: Iterable[Line], *, billing_threshold: Decimal = DEFAULT_THRESHOLD) -> dict[str, Any]:
    """Overall and per-reason precision / recall / false-positive rate, plus escalation rate per group."""
    lines = list(lines)
    positives = sum(1 for line in lines if line.escalate)
    negatives = len(lines) - positives
    tp = fp = 0
    fired: Counter[str] = Counter()
    fired_correct: Counter[str] = Counter()
    fired_on_negative: Counter[str] = Counter()
    labelled: Counter[str] = Counter()
    labelled_caught: Counter[str] = Counter()
    groups: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    mistakes: list[dict[str, Any]] = []
    for line in lines:
        codes = {hit.code.value for hit in text_hits(line.text, billing_threshold=billing_threshold)}
        predicted = bool(codes)
        tp += predicted and line.escalate
        fp += predicted and not line.escalate
        for code in codes:
            fired[code] += 1
            fired_correct[code] += line.escalate
            fired_on_negative[code] += not line.escalate
        if line.reason:
            labelled[line.reason] += 1
            labelled_caught[line.reason] += predicted
        group = groups[line.group or ("escalate" if line.escalate else "ordinary")]
        group[0] += 1
        group[1] += predicted
        if predicted != line.escalate and len(mistakes) < 50:
            mistakes.append({"text": line.text, "expected": line.escalate, "fired": sorted(codes)})
    reasons = {
        code.value: {
            "fired": fired[code.value],
            "precision": _ratio(fired_correct[code.value], fired[code.value]),
            "recall": _ratio(labelled_caught[code.value], labelled[code.value]),
            "labelled": labelled[code.value],
            "fp_rate": _ratio(fired_on_negative[code.value], negatives),
        }
        for code in ReasonCode
        if fired[code.value] or labelled[code.value]
    }
    return {
        "lines": len(lines),
        "positives": positives,
        "negatives": negatives,
        "precision": _ratio(tp, tp + fp),
        "recall": _ratio(tp, positives),
        "fp_rate": _ratio(fp, negatives),
        "reasons": reasons,
        "groups": {name: {"lines": n, "escalated_rate": _ratio(k, n)} for name, (n, k) in sorted(groups.items())},
        "mistakes": mistakes,
    }
