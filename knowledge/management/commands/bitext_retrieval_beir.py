"""``manage.py bitext_retrieval_beir --csv DIR --out DIR [--split dev|holdout|all]``.

Writes the Bitext intent-retrieval set (knowledge/bitext_intents.py) as a BEIR folder, ready for
``manage.py evaluate_retrieval --beir DIR``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from knowledge.bitext_intents import BitextFormatError, bitext_intent_dataset, write_beir
from supportai.datasets import SPLITS


class Command(BaseCommand):
    help = "Convert the Bitext customer-support CSV into a BEIR retrieval set (utterance -> its intent's answer)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--csv", required=True, type=Path, help="Bitext CSV (or its folder).")
        parser.add_argument("--out", required=True, type=Path, help="folder to write the BEIR files into")
        parser.add_argument("--split", choices=SPLITS, default="holdout", help="which half of the utterances to ask")

    def handle(self, *args: Any, **options: Any) -> None:
        out = Path(options["out"])
        if out.exists() and not out.is_dir():
            raise CommandError(f"--out: {out} is a file; give a folder")
        source = Path(options["csv"])
        try:
            dataset = bitext_intent_dataset(source, split=options["split"])
        except BitextFormatError as exc:
            raise CommandError(str(exc)) from exc
        except OSError as exc:  # a disk error names no file
            raise CommandError(f"--csv: {source} could not be read: {exc.strerror or exc}") from exc
        try:
            write_beir(dataset, out)
        except OSError as exc:
            raise CommandError(f"--out: {out} could not be written: {exc.strerror or exc}") from exc
        self.stdout.write(f"wrote {options['out']}: {len(dataset.corpus)} answers, {len(dataset.queries)} queries")
