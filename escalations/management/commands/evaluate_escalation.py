"""``manage.py evaluate_escalation --jsonl FILE [--json OUT]``: precision / recall / FP rate per reason."""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from escalations.evaluation import DEFAULT_THRESHOLD, EvaluationError, evaluate, read_jsonl
from supportai.management.output import check_writable, replaced


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.4f}"


class Command(BaseCommand):
    help = 'Score the escalation triggers on JSONL lines {"text": ..., "escalate": true|false[, "reason", "group"]}.'

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--jsonl", required=True, help="Labelled lines (see bitext_escalation_jsonl).")
        parser.add_argument("--json", dest="out", help="Also write the full report here.")
        parser.add_argument("--threshold", default=str(DEFAULT_THRESHOLD), help="Billing-dispute threshold.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            threshold = Decimal(options["threshold"])
        except InvalidOperation:
            threshold = Decimal("NaN")
        if not threshold.is_finite() or threshold < 0:
            raise CommandError("--threshold must be a finite number >= 0")
        path = Path(options["jsonl"])
        if path.is_dir():
            raise CommandError(f"--jsonl: {path} is a folder; give the JSONL file")
        if not path.is_file():
            raise CommandError(f"{path} does not exist")
        out = Path(options["out"]) if options["out"] else None
        if out:  # before the evaluation, whose report would be lost
            check_writable(out, option="--json", folder_hint="choose a file")
        try:
            report = evaluate(read_jsonl(path), billing_threshold=threshold)
        except EvaluationError as exc:
            raise CommandError(str(exc)) from exc
        report["dataset"] = str(path)
        self.stdout.write(
            f"{report['lines']} lines ({report['positives']} escalate, {report['negatives']} ordinary): "
            f"precision {_fmt(report['precision'])}  recall {_fmt(report['recall'])}  "
            f"false-positive rate {_fmt(report['fp_rate'])}"
        )
        self.stdout.write(f"{'reason':<22}{'fired':>7}{'precision':>11}{'recall':>9}{'fp_rate':>9}")
        for code, row in report["reasons"].items():
            self.stdout.write(
                f"{code:<22}{row['fired']:>7}{_fmt(row['precision']):>11}{_fmt(row['recall']):>9}{_fmt(row['fp_rate']):>9}"
            )
        if out:
            try:
                with replaced(out) as file:
                    file.write(json.dumps(report, indent=2))
            except OSError as exc:
                raise CommandError(f"--json: {out} could not be written: {exc.strerror or exc}") from exc
            self.stdout.write(f"wrote {out}")
