"""``manage.py ingest PATH --tenant SLUG``: files or folders (recursively), idempotent by content hash."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from knowledge.management.options import add_threads_option, apply_threads_option, tenant_by_slug
from knowledge.parsing import SUPPORTED_SUFFIXES
from knowledge.services import Outcome, file_ingest, source_get_or_create, source_mark_synced, source_prune


def files_under(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob("*") if p.is_file() and not any(part.startswith(".") for part in p.parts))


class Command(BaseCommand):
    help = "Ingest knowledge files (md, txt, html, pdf, csv FAQ, BEIR corpus.jsonl) into a tenant."

    def add_arguments(self, parser: CommandParser) -> None:
        add_threads_option(parser)
        parser.add_argument("path", type=Path)
        parser.add_argument("--tenant", required=True, help="tenant slug")
        parser.add_argument("--source", default="", help="knowledge source name (default: the path)")
        parser.add_argument("--no-prune", action="store_true", help="keep documents no longer under PATH")
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        apply_threads_option(options)
        path: Path = options["path"].resolve()
        if not path.exists():
            raise CommandError(f"{path} does not exist")
        tenant = tenant_by_slug(options["tenant"])
        source = source_get_or_create(tenant=tenant, name=options["source"] or str(path), config={"path": str(path)})
        root = path if path.is_dir() else path.parent
        files = [p for p in files_under(path) if path.is_file() or p.suffix.lower() in SUPPORTED_SUFFIXES]
        totals = dict.fromkeys(Outcome, 0)
        keep: set[str] = set()
        failed = 0
        for file in tqdm(files, unit="file", disable=options["no_progress"], file=self.stderr):
            result = file_ingest(tenant=tenant, source=source, name=str(file.relative_to(root)), data=file.read_bytes())
            keep.update(result.external_ids)
            if result.error:
                failed += 1
                self.stderr.write(f"{result.name}: {result.error_code}: {result.error}")
            for outcome, count in result.outcomes.items():
                totals[outcome] += count
        removed = 0 if options["no_prune"] else source_prune(tenant=tenant, source=source, keep=keep)
        source_mark_synced(source=source, failed=failed == len(files) and bool(files))
        summary = ", ".join(f"{count} {outcome}" for outcome, count in totals.items())
        self.stdout.write(f"{len(files)} files: {summary}, {removed} removed, {failed} files with errors")
