"""Evaluate the input guardrail: precision/recall on labelled injections, false positives on support text."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from routing.guardrails import check_input
from supportai.datasets import BITEXT, COVID_FAQ, SHARED_DATA


def evaluate(injections: Path, ordinary: list[Path]) -> dict[str, Any]:
    """The figures; a malformed file raises ``CommandError`` naming the file and line."""
    tp = fp = fn = tn = 0
    for number, row in _jsonl_rows(injections):
        if not (isinstance(row, dict) and isinstance(row.get("text"), str) and "label" in row):
            raise CommandError(f"{injections}:{number}: needs a 'text' string and a 'label'")
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


def _jsonl_rows(path: Path) -> Iterator[tuple[int, Any]]:
    """(line number, decoded value) of each non-blank line."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as error:
        raise _not_text(path, error) from None
    except OSError as error:
        raise _unreadable(path, error) from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line)
        except json.JSONDecodeError:
            raise CommandError(f"{path}:{number}: not JSON") from None


def _not_text(path: Path, error: UnicodeDecodeError) -> CommandError:
    return CommandError(f"{path}: not UTF-8 text ({error.reason} at byte {error.start})")


def _unreadable(path: Path, error: OSError) -> CommandError:
    return CommandError(f"{path}: could not be read ({error.strerror or error})")


def _ordinary_texts(path: Path) -> list[str]:
    if path.suffix == ".csv":
        try:
            return _csv_instructions(path)
        except OSError as error:
            raise _unreadable(path, error) from None
    texts = []
    for number, row in _jsonl_rows(path):
        if not (isinstance(row, dict) and isinstance(row.get("text"), str)):
            raise CommandError(f"{path}:{number}: needs a 'text' string")
        texts.append(row["text"])
    return texts


def _csv_instructions(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        try:
            if "instruction" not in (reader.fieldnames or ()):
                found = ", ".join(reader.fieldnames or ()) or "nothing"
                raise CommandError(f"{path}:1: no 'instruction' column (found: {found})")
            texts = []
            for row in reader:
                if row["instruction"] is None:
                    raise CommandError(f"{path}:{reader.line_num}: no 'instruction' value")
                texts.append(row["instruction"])
        except UnicodeDecodeError as error:
            raise _not_text(path, error) from None
        except csv.Error as error:
            # DictReader.line_num is only updated after a good row; its reader's counts the bad line too.
            raise CommandError(f"{path}:{reader.reader.line_num}: not CSV ({error})") from None
    return texts


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
        missing = [str(p) for p in paths if not p.is_file()]
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
