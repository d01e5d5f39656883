"""Run the registered benchmarks, print a table for each and write JSON under ``--out``."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from supportai.benchmarks import REGISTRY, BenchmarkDataMissing, machine_info
from supportai.management.output import check_writable, replaced


class Command(BaseCommand):
    help = "Run benchmarks (all, or those named with --only) and write bench-results/<name>.json."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--out", default="bench-results", help="Folder for the JSON results.")
        parser.add_argument("--only", action="append", default=[], help="Run only this benchmark (repeatable).")

    def handle(self, *args: Any, **options: Any) -> None:
        for config in apps.get_app_configs():  # each app may keep benchmarks in <app>/benchmarks.py
            try:
                importlib.import_module(f"{config.name}.benchmarks")
            except ModuleNotFoundError as exc:
                if exc.name != f"{config.name}.benchmarks":
                    raise
        unknown = set(options["only"]) - set(REGISTRY)
        if unknown:
            raise CommandError(f"Unknown benchmark(s): {', '.join(sorted(unknown))}. Known: {', '.join(REGISTRY)}")
        out = Path(options["out"])
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CommandError(f"--out: the folder {out} could not be created: {exc.strerror or exc}") from exc
        chosen = [(name, fn) for name, fn in REGISTRY.items() if not options["only"] or name in options["only"]]
        for name, _ in chosen:  # before any runs: a benchmark takes minutes, and its results would be lost
            check_writable(out / f"{name}.json", option="--out", folder_hint="remove it or choose another --out")
        missing, unwritten = [], []
        for name, fn in chosen:
            self.stdout.write(self.style.MIGRATE_HEADING(f"== {name}"))
            try:
                result = fn()
            except BenchmarkDataMissing as exc:
                self.stderr.write(f"   not run, its dataset cannot be read: {exc}")
                missing.append(name)
                continue
            self._print_rows(result.get("rows", []))
            payload = {"benchmark": name, "ran_at": timezone.now().isoformat(), "machine": machine_info(), **result}
            path = out / f"{name}.json"
            try:
                with replaced(path) as file:
                    file.write(json.dumps(payload, indent=2, default=str))
            except OSError as exc:  # checked before the run, but a disk fills and a folder changes meanwhile
                self.stderr.write(f"   its results could not be written to {path}: {exc.strerror or exc}")
                unwritten.append(name)
                continue
            self.stdout.write(f"   wrote {path}")
        problems = [f"not run for want of their datasets: {', '.join(missing)}"] if missing else []
        problems += [f"results not written: {', '.join(unwritten)}"] if unwritten else []
        if problems:
            raise CommandError("; ".join(problems))

    def _print_rows(self, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        columns = list(rows[0])
        widths = {c: max(len(str(c)), *(len(str(r.get(c, ""))) for r in rows)) for c in columns}
        self.stdout.write("  ".join(str(c).ljust(widths[c]) for c in columns))
        for row in rows:
            self.stdout.write("  ".join(str(row.get(c, "")).ljust(widths[c]) for c in columns))
