"""``manage.py reindex --tenant SLUG [--force] [--dry-run] [--no-progress]``: re-index the documents whose index no
longer matches the configuration (embedding model, chunk sizes, title weight, language, indexing rules) or
its file's kind (Markdown headings or plain text)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.template.defaultfilters import pluralize
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from knowledge import conf
from knowledge.management.options import (
    StepBars,
    add_progress_option,
    add_threads_option,
    apply_threads_option,
    embedding_retries,
    provider_check,
)
from knowledge.providers.base import ProviderError
from knowledge.services import default_provider, tenant_reindex
from knowledge.staleness import StaleReason, stale_counts
from supportai.management.options import tenant_by_slug


class Command(BaseCommand):
    help = (
        "Re-chunk and re-index a tenant's documents whose index no longer matches the configuration: "
        "another embedding model, chunk sizes, title weight, language's stemming or indexing rules, or a file "
        "now read another way (Markdown headings or plain text) than its chunks were sectioned (only children "
        "whose text changed are embedded again; all documents and children with --force)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        add_threads_option(parser)
        add_progress_option(parser)
        parser.add_argument("--tenant", required=True, help="tenant slug")
        parser.add_argument("--force", action="store_true", help="re-embed every document")
        parser.add_argument(
            "--dry-run", action="store_true", help="print how many documents are stale and why; change nothing"
        )
        parser.add_argument(
            "--resume-from",
            metavar="TIME",
            help="the start time an interrupted run printed: leave out the documents indexed since",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        apply_threads_option(options)
        tenant = tenant_by_slug(options["tenant"])
        provider = default_provider()
        started = timezone.now()
        since = _resume_from(options["resume_from"], now=started)
        counts = stale_counts(
            tenant=tenant, model=provider.model, settings=conf.SETTINGS, force=options["force"], indexed_before=since
        )
        if not counts:
            # Nothing to do, nothing to resume: one line, and no run started.
            self.stdout.write(
                f"to re-index: {_nothing(slug=tenant.slug, force=options['force'], since=options['resume_from'])}"
            )
            return
        self.stdout.write(f"to re-index: {_describe(counts)}")
        if options["dry_run"]:
            self.stdout.write("dry run: nothing changed")
            return
        provider_check(provider, consequence="nothing was re-indexed")
        # Printed first: a run interrupted (Ctrl-C, a provider outage, a killed shell) is resumed with it.
        self.stdout.write(f"started at {started.isoformat()}; to resume this run: --resume-from {started.isoformat()}")
        bars = StepBars(self, options, unit="doc", units={})
        try:
            with embedding_retries(self):
                count = tenant_reindex(
                    tenant=tenant, provider=provider, force=options["force"], indexed_before=since, progress=bars
                )
        except ProviderError as exc:
            raise CommandError(
                f"embedding failed, the batch's documents are marked failed (run again to retry): {exc}"
            ) from exc
        finally:
            bars.close()
        self.stdout.write(
            f"re-indexed {count} document{pluralize(count)} of {tenant.slug} with {provider.name}:{provider.model}"
        )


def _describe(counts: dict[StaleReason, int]) -> str:
    """``12 documents: chunk sizes changed; 3: another embedding model`` (``counts`` not empty)."""
    parts = [f"{count}: {reason}" for reason, count in counts.items()]
    first = next(iter(counts.values()))
    parts[0] = f"{first} document{pluralize(first)}: {next(iter(counts))}"
    return "; ".join(parts)


def _nothing(*, slug: str, force: bool, since: str | None) -> str:
    """Why a run has no document to re-index, as the options it was given read it."""
    if since is not None:
        done = f"was indexed since {since}"
        return (
            f"nothing, every document {done}"
            if force
            else f"nothing, every document matches the configuration or {done}"
        )
    if force:
        return f"nothing, {slug} has no documents to index"
    return "nothing, every document matches the configuration"


RESUME_FROM_INVALID = "--resume-from takes the ISO time a run printed when it started (with its offset); got {value!r}"


def _resume_from(value: str | None, *, now: datetime) -> datetime | None:
    if value is None:
        return None
    try:
        since = parse_datetime(value)
    except ValueError:
        since = None
    if since is None or timezone.is_naive(since) or since > now:
        raise CommandError(RESUME_FROM_INVALID.format(value=value))
    return since
