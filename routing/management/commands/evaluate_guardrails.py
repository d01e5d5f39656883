"""Evaluate the input guardrail: precision/recall on labelled injections, false positives on support text."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from routing.guardrails import check_input
from supportai.datasets import BITEXT, COVID_FAQ, SHARED_DATA


def evaluate(injections: Path, ordinary: list[Path]) -> dict[str, Any]:
    tp = fp = fn = tn = 0
    for line in injections.read_text().splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        flagged = check_input(row["text"]).flagged
        if row["label"]:
            tp, fn = (tp + 1, fn) if flagged else (tp, fn + 1)
        else:
            fp, tn = (fp + 1, tn) if flagged else (fp, tn + 1)
    ordinary_total = ordinary_flagged = 0
    for path in ordinary:
        for text in _ordinary_texts(path):
            ordinary_total += 1
            ordinary_flagged += check_input(text).flagged
    return {
        "injections": {"tp": tp, "fp": fp, "fn": fn, "tn": tn},
        "precision": round(tp / (tp + fp), 4) if tp + fp else 0.0,
        "recall": round(tp / (tp + fn), 4) if tp + fn else 0.0,
        "ordinary_total": ordinary_total,
        "ordinary_flagged": ordinary_flagged,
        "ordinary_fp_rate": round(ordinary_flagged / ordinary_total, 5) if ordinary_total else 0.0,
    }


def _ordinary_texts(path: Path) -> list[str]:
    if path.suffix == ".csv":
        with path.open(newline="") as handle:
            return [row["instruction"] for row in csv.DictReader(handle)]
    return [json.loads(line)["text"] for line in path.read_text().splitlines() if line.strip()]


class Command(BaseCommand):
    help = "Report precision/recall of the prompt-injection check and its false-positive rate on support questions."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--injections", default=str(SHARED_DATA / "prompt-injections" / "train.jsonl"))
        parser.add_argument(
            "--ordinary",
            action="append",
            default=None,
            help="CSV with an 'instruction' column or JSONL with 'text' (repeatable); default: Bitext + covid-faq",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        ordinary = [Path(p) for p in options["ordinary"]] if options["ordinary"] else [
            BITEXT / "bitext_sample.csv",
            COVID_FAQ / "queries.jsonl",
        ]  # fmt: skip
        paths = [Path(options["injections"]), *ordinary]
        missing = [str(p) for p in paths if not p.exists()]
        if missing:
            raise CommandError(f"Data not found: {', '.join(missing)}")
        report = evaluate(paths[0], ordinary)
        counts = report["injections"]
        self.stdout.write(
            f"prompt injections: precision {report['precision']:.3f}  recall {report['recall']:.3f}  "
            f"(tp {counts['tp']}, fp {counts['fp']}, fn {counts['fn']}, tn {counts['tn']})"
        )
        self.stdout.write(
            f"ordinary support questions: {report['ordinary_flagged']} of {report['ordinary_total']} flagged "
            f"(false-positive rate {report['ordinary_fp_rate']:.3%})"
        )
