"""``manage.py bitext_escalation_jsonl --csv bitext_sample.csv --out FILE [--split dev|holdout|all]``.

contact_human_agent → escalate (human_request); complaint → escalate (complaint); contact_customer_service
is marked ambiguous (skipped by the evaluation); every other intent → ordinary, must not escalate.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from escalations.evaluation import SPLITS, EvaluationError, bitext_lines
from supportai.datasets import DatasetNotFound, csv_file


class Command(BaseCommand):
    help = "Convert the Bitext customer-support CSV into labelled JSONL for evaluate_escalation."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--csv", required=True, help="Bitext CSV (or its folder).")
        parser.add_argument("--out", required=True)
        parser.add_argument("--split", choices=SPLITS, default="all", help="dev: tune on it; holdout: report on it.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            source = csv_file(Path(options["csv"]))
        except DatasetNotFound as exc:
            raise CommandError(str(exc)) from exc
        counts: Counter[str] = Counter()
        try:
            with Path(options["out"]).open("w", encoding="utf-8") as out:
                for line in bitext_lines(source, split=options["split"]):
                    out.write(json.dumps(line) + "\n")
                    counts["ambiguous" if line["ambiguous"] else "escalate" if line["escalate"] else "ordinary"] += 1
        except EvaluationError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"wrote {options['out']}: {counts['escalate']} escalate, {counts['ordinary']} ordinary, "
            f"{counts['ambiguous']} ambiguous (skipped when scoring)"
        )
