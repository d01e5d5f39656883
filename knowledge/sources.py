"""The sync that keeps a tenant's copy of a website (a URL knowledge source) up to date.

``knowledge_source_sync`` is a long-running orchestration, not one transaction: each page is
stored (and its chunks swapped) in its own transaction, so a slow site never holds a lock and a
failure half-way keeps every page already done. Pages are ingested through the idempotent
ingestion service (``services.parsed_ingest``): unchanged text costs no chunk write. Whatever goes
wrong with one page (its fetch, its text, an unexpected error, logged) is that page's error, never
the sync's.
Configuration and creation of sources are in ``knowledge.source_config``.
"""

from __future__ import annotations

import logging
from collections import Counter

from django.db import transaction
from django.utils import timezone

from knowledge.crawling import Crawler
from knowledge.indexing import default_provider
from knowledge.models import KnowledgeSource, SourceKind, SourceStatus
from knowledge.providers.base import EmbeddingProvider
from knowledge.selectors import source_get
from knowledge.services import Outcome, source_delete
from knowledge.site_sync import EntryFailed, LeaseLost, SiteSync
from knowledge.source_config import (
    NOT_A_URL_SOURCE,
    SourceConfigError,
    sync_free,
    url_config_parse,
)
from knowledge.sync_result import SyncResult, done_before_stop
from supportai.models import Tenant

logger = logging.getLogger(__name__)

ALREADY_SYNCING = "A sync of this source is already running."
DELETE_WHILE_SYNCING = "A sync of this source is running; delete the source once it has finished."
ENTRY_FAILED = "Nothing was synced or removed: {error}"
STOPPED = "The sync stopped early: {error} Before it stopped, {done}; pages gone from the site were not removed."
INTERNAL_ERROR = "The sync stopped on an internal error; see the worker log."
INTERRUPTED = "The sync was interrupted before it finished; nothing was removed. Sync again."
LEASE_LOST = "The sync stopped: the source was deleted, or taken over by another sync after this one looked dead."
PAGES_FAILED = "{failed} of {total} pages failed ({codes}); see the documents list for each error."


def _claim(source: KnowledgeSource) -> bool:
    now = timezone.now()
    claimed = KnowledgeSource.objects.filter(sync_free(now), pk=source.pk).update(
        status=SourceStatus.SYNCING, sync_started_at=now
    )
    if claimed:
        source.status, source.sync_started_at = SourceStatus.SYNCING, now
    return claimed == 1


def _finish(source: KnowledgeSource, *, failed: bool, error: str, summary: str = "") -> None:
    """Record the outcome (``summary``: what the sync did, "" when it did not get to read the
    site) and release the claim, where the claim is still this sync's (a source deleted, or taken
    over by another sync, is left as it is)."""
    status, now = (SourceStatus.FAILED if failed else SourceStatus.IDLE), timezone.now()
    KnowledgeSource.objects.filter(pk=source.pk, sync_started_at=source.sync_started_at).update(
        status=status, error=error, last_synced_at=now, last_sync_summary=summary[:500], sync_started_at=None
    )
    source.status, source.error, source.last_synced_at, source.sync_started_at = status, error, now, None
    source.last_sync_summary = summary[:500]


def knowledge_source_sync(
    *,
    tenant: Tenant,
    source_id: int,
    crawler: Crawler | None = None,
    provider: EmbeddingProvider | None = None,
) -> SyncResult:
    """Bring the tenant's URL source in line with its website; returns what happened.

    Unchanged pages cost a 304 (or one hash comparison); changed pages are re-chunked; pages gone
    from the site or sitemap (or now disallowed / noindex) lose their documents. Per-page errors
    go on the documents and never stop the rest. If the entry point itself (sitemap, start page,
    robots.txt) cannot be read, nothing is removed, the source is marked failed and its error says
    what was changed before that. A sync that finds the source already syncing does nothing.
    Raises ``Http404`` for another tenant's source.
    """
    source = source_get(tenant=tenant, pk=source_id)
    if source.kind != SourceKind.URL:
        raise SourceConfigError(NOT_A_URL_SOURCE.format(kind=source.kind))
    if not _claim(source):
        return SyncResult(error=ALREADY_SYNCING, skipped=True)
    # From here on every way out releases the claim (Ctrl-C on a command included), or the source
    # would look busy for its SYNC_LEASE.
    try:
        return _sync_claimed(tenant=tenant, source=source, crawler=crawler, provider=provider)
    except KeyboardInterrupt:
        _finish(source, failed=True, error=INTERRUPTED)
        raise
    except BaseException:
        _finish(source, failed=True, error=INTERNAL_ERROR)
        raise


@transaction.atomic
def knowledge_source_delete(*, tenant: Tenant, source: KnowledgeSource) -> int:
    """Delete the tenant's source with its documents and chunks (``services.source_delete``);
    returns how many documents went. The source is claimed first, as a sync claims it: a running
    sync refuses the delete (``SourceConfigError``), and a sync starting meanwhile waits for the
    row and then finds it gone. All or nothing."""
    if source.tenant_id != tenant.pk:
        raise ValueError("source belongs to another tenant")
    if not _claim(source):
        raise SourceConfigError(DELETE_WHILE_SYNCING)
    return source_delete(tenant=tenant, source=source)


def _sync_claimed(
    *, tenant: Tenant, source: KnowledgeSource, crawler: Crawler | None, provider: EmbeddingProvider | None
) -> SyncResult:
    try:
        config = url_config_parse(source.config)
    except SourceConfigError as exc:
        _finish(source, failed=True, error=str(exc))
        return SyncResult(error=str(exc))
    provider = provider or default_provider()
    with crawler or Crawler.from_settings() as open_crawler:
        sync = SiteSync(tenant=tenant, source=source, config=config, crawler=open_crawler, provider=provider)
        try:
            sync.run()
            sync.hold_lease(now_or_never=True)  # pruning deletes: only while the source is still ours
        except LeaseLost:
            logger.warning("URL source %s: the sync lost its claim on the source and stopped", source.pk)
            sync.result.error = LEASE_LOST
            return sync.result
        except EntryFailed as exc:
            sync.flush()
            done = done_before_stop(sync.result)
            sync.result.error = STOPPED.format(error=exc, done=done) if done else ENTRY_FAILED.format(error=exc)
            _finish(source, failed=True, error=sync.result.error, summary=sync.result.summary())
            return sync.result
    sync.prune()
    sync.record_aliases()
    failed = sync.result.outcomes[Outcome.FAILED]
    codes = ", ".join(f"{count} {code}" for code, count in Counter(sync.result.errors.values()).most_common())
    error = PAGES_FAILED.format(failed=failed, total=sync.result.pages, codes=codes) if failed else ""
    _finish(source, failed=bool(failed) and failed == sync.result.pages, error=error, summary=sync.result.summary())
    sync.result.error = error
    return sync.result
