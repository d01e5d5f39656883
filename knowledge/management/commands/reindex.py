"""``manage.py reindex --tenant SLUG [--force]``: re-index after the embedding model or a document's
language changed."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.template.defaultfilters import pluralize

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

    def handle(self, *args: Any, **options: Any) -> None:
        apply_threads_option(options)
        tenant = tenant_by_slug(options["tenant"])
        provider = default_provider()
        try:
            count = tenant_reindex(tenant=tenant, provider=provider, force=options["force"])
        except ProviderError as exc:
            raise CommandError(
                f"embedding failed, the batch's documents are marked failed (run again to retry): {exc}"
            ) from exc
        self.stdout.write(
            f"re-indexed {count} document{pluralize(count)} of {tenant.slug} with {provider.name}:{provider.model}"
        )
