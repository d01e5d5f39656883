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
from supportai.management.output import check_writable, replaced


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
        out = Path(options["out"])
        check_writable(out, option="--out", folder_hint="choose a file")
        try:  # everything is read before --out is touched: a bad CSV keeps an earlier output
            lines = list(bitext_lines(source, split=options["split"]))
        except EvaluationError as exc:
            raise CommandError(str(exc)) from exc
        except UnicodeDecodeError:
            raise CommandError(f"{source} is not UTF-8 text (save it as CSV UTF-8)") from None
        except OSError as exc:
            raise CommandError(f"{source} could not be read: {exc.strerror or exc}") from exc
        try:
            with replaced(out) as file:
                file.writelines(json.dumps(line) + "\n" for line in lines)
        except OSError as exc:
            raise CommandError(f"--out: {out} could not be written: {exc.strerror or exc}") from exc
        counts = Counter(
            "ambiguous" if line["ambiguous"] else "escalate" if line["escalate"] else "ordinary" for line in lines
        )
        self.stdout.write(
            f"wrote {options['out']}: {counts['escalate']} escalate, {counts['ordinary']} ordinary, "
            f"{counts['ambiguous']} ambiguous (skipped when scoring)"
        )
