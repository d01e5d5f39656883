"""``manage.py reindex --tenant SLUG [--force]``: re-index after the embedding model or a document's
language changed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.template.defaultfilters import pluralize
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from knowledge.management.options import add_threads_option, apply_threads_option, tenant_by_slug
from knowledge.providers.base import ProviderError
from knowledge.services import default_provider, tenant_reindex


class Command(BaseCommand):
    help = (
        "Re-chunk and re-index a tenant's documents indexed with another embedding model or another "
        "language's stemming (all of them, every child embedded again, with --force)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        add_threads_option(parser)
        parser.add_argument("--tenant", required=True, help="tenant slug")
        parser.add_argument("--force", action="store_true", help="re-embed every document")
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
        # Printed first: a run interrupted (Ctrl-C, a provider outage, a killed shell) is resumed with it.
        self.stdout.write(f"started at {started.isoformat()}; to resume this run: --resume-from {started.isoformat()}")
        try:
            count = tenant_reindex(tenant=tenant, provider=provider, force=options["force"], indexed_before=since)
        except ProviderError as exc:
            raise CommandError(
                f"embedding failed, the batch's documents are marked failed (run again to retry): {exc}"
            ) from exc
        self.stdout.write(
            f"re-indexed {count} document{pluralize(count)} of {tenant.slug} with {provider.name}:{provider.model}"
        )


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
