"""``manage.py sync_sources --tenant SLUG [--source NAME]``: sync a tenant's website (URL) sources now."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.template.defaultfilters import pluralize

from knowledge.management.options import (
    add_threads_option,
    apply_threads_option,
    embedding_retries,
    provider_check,
)
from knowledge.models import KnowledgeSource, SourceKind
from knowledge.parsed import UNSTORABLE
from knowledge.services import default_provider
from knowledge.sources import INTERRUPTED, knowledge_source_sync
from supportai.management.console import INTERRUPTED_STATUS
from supportai.management.options import tenant_by_slug


class Command(BaseCommand):
    help = "Sync a tenant's URL knowledge sources (sitemaps or crawled sites) in this process."

    def add_arguments(self, parser: CommandParser) -> None:
        add_threads_option(parser)
        parser.add_argument("--tenant", required=True, help="tenant slug")
        parser.add_argument("--source", default="", help="only the URL source with this name")

    def handle(self, *args: Any, **options: Any) -> None:
        apply_threads_option(options)
        tenant = tenant_by_slug(options["tenant"])
        sources = KnowledgeSource.objects.for_tenant(tenant).filter(kind=SourceKind.URL).order_by("name")
        if UNSTORABLE.search(options["source"]):  # not UTF-8 on the command line: no stored name is
            sources = sources.none()
        elif options["source"]:
            sources = sources.filter(name=options["source"])
        if not sources:
            which = f"named {options['source']!r} " if options["source"] else ""
            raise CommandError(f"Tenant {tenant.slug!r} has no URL source {which}to sync.")
        provider_check(default_provider(), consequence="nothing was synced")
        failed = 0
        for source in sources:
            self.stdout.write(
                f"{source.name}: syncing {source.config.get('sitemap_url') or source.config.get('start_url')}"
            )
            try:
                with embedding_retries(self):
                    result = knowledge_source_sync(tenant=tenant, source_id=source.pk)
            except KeyboardInterrupt:
                raise CommandError(f"{source.name}: {INTERRUPTED}", returncode=INTERRUPTED_STATUS) from None
            for url, code in result.errors.items():
                self.stdout.write(f"  {code}: {url}")
            self.stdout.write(f"{source.name}: {result.summary()}")
            if result.error:
                failed += 1
                self.stderr.write(f"{source.name}: {result.error}")
        if failed:
            raise CommandError(f"{failed} of {len(sources)} source{pluralize(len(sources))} did not sync cleanly.")
