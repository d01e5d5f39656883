"""URL knowledge sources: their configuration, creation and the queueing of a sync.

The sync itself (a long-running orchestration) lives in ``knowledge.sources``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any
from urllib.parse import urlsplit

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from kombu.exceptions import OperationalError

from knowledge import conf
from knowledge.models import KnowledgeSource, SourceKind, SourceStatus
from knowledge.web_addresses import MAX_URL_LENGTH, LinkScope, has_credentials, normalize_url, valid_host_name
from supportai.models import Tenant
from supportai.outbound import InvalidHost, UnsafeUrl, check_public_url
from supportai.quoted import Quoted

logger = logging.getLogger(__name__)

DEFAULT_MAX_PAGES = 100
DEFAULT_MAX_DEPTH = 2
MAX_DEPTH = 10
# Input sizes shared by the REST API's serializer and the console form.
NAME_MAX_LENGTH = 255  # KnowledgeSource.name
URL_MAX_LENGTH = MAX_URL_LENGTH
PREFIX_MAX_LENGTH = 300
# A running sync renews its claim on the source this often (seconds), before each page, each
# sitemap and each batch of pages it stores, so however long it runs no other sync takes it over.
LEASE_RENEWAL_S = 60
# A claim not renewed for this long is a dead sync's (its worker was killed), and the next sync or
# delete may take the source over. Ten renewal intervals: the longest step between two renewals (a
# page's fetch, within 2 x KNOWLEDGE_CRAWL_TIMEOUT_S, with its Crawl-delay; or one batch of pages
# embedded and stored) fits in it many times over at the default settings.
SYNC_LEASE = timedelta(seconds=10 * LEASE_RENEWAL_S)
# The upload sources that files uploaded through the console and the REST API go to. No website
# source may take these names: its syncs prune what its pages do not give, uploads included.
UPLOAD_SOURCE = "Uploads"
API_UPLOAD_SOURCE = "API uploads"
UPLOAD_SOURCE_NAMES = frozenset({UPLOAD_SOURCE, API_UPLOAD_SOURCE})

NOT_A_URL_SOURCE = "Only URL sources can be synced; this source is of kind {kind!r}."
NOT_EDITABLE = "Only URL sources have website settings; this source is of kind {kind!r}."
NAME_TAKEN = "There is already a knowledge source named {name!r}; choose another name."
NAME_RESERVED = "{name!r} is the source that files uploaded through the console or the API go to; choose another name."
ONE_ENTRY_URL = "Set exactly one of start_url (crawl from a page) and sitemap_url (read a sitemap.xml)."
BAD_URL = "{key} must be an absolute http(s) URL; got {value!r}."
CREDENTIALS_IN_URL = (
    "{key} must not hold a user name or password ('user:password@'): only public pages can be read, "
    "and the address would be stored and shown as typed."
)
BAD_HOST = "{key} must name a website: {host!r} is not a valid host name."
BAD_PREFIX = "path_prefix must start with '/'; got {value!r}."
PREFIX_NOT_A_PATH = (
    "path_prefix is matched against each page's path, so it takes no query string or fragment ('?', '#'); "
    "got {value!r}."
)
BAD_NUMBER = "{key} must be a whole number from {minimum} to {maximum}; got {value!r}."
PRIVATE_URL = "{key} must be a public website: {host} resolves to a private, loopback or link-local address."


class SourceConfigError(ValueError):
    """A URL source setting that cannot be used. ``field`` names the input it is about ("name",
    "start_url", "max_pages", ...), or is empty when it concerns several."""

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class UrlSourceConfig:
    start_url: str = ""
    sitemap_url: str = ""
    path_prefix: str = ""
    max_pages: int = DEFAULT_MAX_PAGES
    max_depth: int = DEFAULT_MAX_DEPTH
    sync_interval_minutes: int = 0

    @property
    def entry_url(self) -> str:
        return self.sitemap_url or self.start_url

    @property
    def host(self) -> str:
        return urlsplit(self.entry_url).hostname or ""

    @property
    def scope(self) -> LinkScope:
        """The source's host and path prefix: the pages it may index."""
        return LinkScope(self.host, self.path_prefix)

    def covers(self, url: str) -> bool:
        """Whether ``url`` is on the source's host and under its path prefix (a page we may index)."""
        return self.scope.covers(url)


def _number(config: Mapping[str, Any], key: str, default: int, maximum: int, minimum: int = 0) -> int:
    value = config.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        message = BAD_NUMBER.format(key=key, minimum=minimum, maximum=maximum, value=Quoted(value))
        raise SourceConfigError(message, field=key)
    return value


def sync_free(now: datetime) -> Q:
    """Sources no sync holds: not syncing, or held by a sync whose ``SYNC_LEASE`` has run out
    (its worker is presumed dead, and the next sync may take the source over)."""
    return ~Q(status=SourceStatus.SYNCING) | Q(sync_started_at__isnull=True) | Q(sync_started_at__lt=now - SYNC_LEASE)


def sync_running(*, source: KnowledgeSource) -> bool:
    """Whether a live sync holds ``source`` now (one queued meanwhile would find it taken)."""
    return not KnowledgeSource.objects.filter(sync_free(timezone.now()), pk=source.pk).exists()


def _url_error(key: str, raw: object) -> SourceConfigError:
    try:
        host = urlsplit(raw.strip()).hostname if isinstance(raw, str) else None
    except ValueError:
        host = None
    if host and not valid_host_name(host):
        return SourceConfigError(BAD_HOST.format(key=key, host=Quoted(host)), field=key)
    return SourceConfigError(BAD_URL.format(key=key, value=Quoted(raw)), field=key)


def url_config_parse(config: Mapping[str, Any]) -> UrlSourceConfig:
    """The validated configuration of a URL source; ``SourceConfigError`` with a plain message if not."""
    urls = {}
    for key in ("start_url", "sitemap_url"):
        raw = config.get(key) or ""
        if isinstance(raw, str) and has_credentials(raw):  # refused, not dropped: the user meant them
            raise SourceConfigError(CREDENTIALS_IN_URL.format(key=key), field=key)
        url = normalize_url(raw) if isinstance(raw, str) else None
        if raw and url is None:
            raise _url_error(key, raw)
        urls[key] = url or ""
    if bool(urls["start_url"]) == bool(urls["sitemap_url"]):
        raise SourceConfigError(ONE_ENTRY_URL)
    prefix = config.get("path_prefix") or ""
    if not isinstance(prefix, str) or (prefix and not prefix.startswith("/")):
        raise SourceConfigError(BAD_PREFIX.format(value=Quoted(prefix)), field="path_prefix")
    if "?" in prefix or "#" in prefix:  # a prefix no page's path could ever be under
        raise SourceConfigError(PREFIX_NOT_A_PATH.format(value=Quoted(prefix)), field="path_prefix")
    settings = conf.SETTINGS
    default_pages = min(DEFAULT_MAX_PAGES, settings.crawl_max_pages)
    max_pages = _number(config, "max_pages", default_pages, settings.crawl_max_pages, minimum=1)
    return UrlSourceConfig(
        start_url=urls["start_url"],
        sitemap_url=urls["sitemap_url"],
        path_prefix=prefix,
        max_pages=max_pages,
        max_depth=_number(config, "max_depth", DEFAULT_MAX_DEPTH, MAX_DEPTH),
        sync_interval_minutes=_number(
            config, "sync_interval_minutes", settings.url_sync_interval_minutes, conf.MAX_SYNC_INTERVAL_MINUTES
        ),
    )


def url_config_check(config: Mapping[str, Any]) -> UrlSourceConfig:
    """``url_config_parse``, then the pre-flight SSRF check of the entry URL (``supportai.outbound``):
    a host that resolves to a private, loopback or link-local address is refused unless
    ``KNOWLEDGE_CRAWL_ALLOW_PRIVATE``. A host that does not resolve right now is let through (DNS may
    be down for a moment; the sync reports it), and the crawler checks every connection again."""
    parsed = url_config_parse(config)
    if conf.SETTINGS.crawl_allow_private:
        return parsed
    key = "sitemap_url" if parsed.sitemap_url else "start_url"
    try:
        check_public_url(parsed.entry_url, allow_private=False)
    except InvalidHost as exc:
        raise SourceConfigError(BAD_HOST.format(key=key, host=Quoted(parsed.host)), field=key) from exc
    except UnsafeUrl as exc:
        if not exc.retryable:
            raise SourceConfigError(PRIVATE_URL.format(key=key, host=parsed.host), field=key) from exc
    return parsed


def _stored(parsed: UrlSourceConfig) -> dict[str, Any]:
    return {key: value for key, value in asdict(parsed).items() if value not in ("", None)}


def _name_check(*, tenant: Tenant, name: str, exclude_pk: int | None = None) -> None:
    """Refuse a website source name that an upload source is kept for or another source has."""
    if name in UPLOAD_SOURCE_NAMES:
        raise SourceConfigError(NAME_RESERVED.format(name=name), field="name")
    same_name = KnowledgeSource.objects.for_tenant(tenant).filter(name=name)
    if (same_name.exclude(pk=exclude_pk) if exclude_pk is not None else same_name).exists():
        raise _name_taken_error(name)


class NameTaken(SourceConfigError):
    """Another of the tenant's sources has the name."""


def _name_taken_error(name: str) -> NameTaken:
    return NameTaken(NAME_TAKEN.format(name=name), field="name")


@contextmanager
def name_kept_unique(name: str) -> Iterator[None]:
    """Run a write that names a source ``name`` in a savepoint. A concurrent write of the same name
    passes the checks made before and meets the unique constraint; that raises ``NameTaken`` here,
    and the caller's transaction stays usable."""
    try:
        with transaction.atomic():
            yield
    except IntegrityError as exc:  # knowledgesource_unique_name is the table's only unique constraint
        raise _name_taken_error(name) from exc


def url_source_check(
    *, tenant: Tenant, name: str, config: Mapping[str, Any], source: KnowledgeSource | None = None
) -> dict[str, Any]:
    """The checks ``url_source_create`` (``source`` None) and ``url_source_update`` (the tenant's
    ``source``) make before they write: the name rules, then ``url_config_check``. Returns the
    config as they store it; raises ``SourceConfigError``."""
    _name_check(tenant=tenant, name=name, exclude_pk=source.pk if source is not None else None)
    return _stored(url_config_check(config))


@transaction.atomic
def url_source_create(
    *, tenant: Tenant, name: str, config: Mapping[str, Any], sync_now: bool = True
) -> KnowledgeSource:
    """Create a URL source from a config that passes ``url_config_check``; its first sync runs in
    Celery after commit (as "Sync now" does).

    Raises ``SourceConfigError`` for a bad config, a name the tenant already uses or one of
    ``UPLOAD_SOURCE_NAMES``.
    """
    stored = url_source_check(tenant=tenant, name=name, config=config)
    with name_kept_unique(name):
        source = KnowledgeSource.objects.create(tenant=tenant, name=name, kind=SourceKind.URL, config=stored)
    if sync_now:
        source_sync_enqueue(tenant=tenant, source=source)
    return source


@transaction.atomic
def url_source_update(
    *, tenant: Tenant, source: KnowledgeSource, name: str, config: Mapping[str, Any]
) -> KnowledgeSource:
    """Rename the tenant's URL source and replace its settings (checked as ``url_source_create``
    checks them). The next sync uses them; a sync already running finishes with the old ones, and
    pages outside the new settings are removed by the next sync.

    Raises ``SourceConfigError`` for a bad config, a name another source uses (or one of
    ``UPLOAD_SOURCE_NAMES``) or a non-URL source.
    """
    if source.tenant_id != tenant.pk:
        raise ValueError("source belongs to another tenant")
    if source.kind != SourceKind.URL:
        raise SourceConfigError(NOT_EDITABLE.format(kind=source.kind))
    stored = url_source_check(tenant=tenant, name=name, config=config, source=source)
    with name_kept_unique(name):
        # Only these two columns: a running sync owns status, error and the timestamps.
        KnowledgeSource.objects.filter(pk=source.pk).update(name=name, config=stored)
    source.name, source.config = name, stored
    return source


# What the console and the admin tell staff who add a website source or change its settings.
FIRST_SYNC_QUEUED = "its first sync is queued; refresh to see its status."
NEXT_SYNC_USES_SETTINGS = "the next sync uses them."
SYNC_NOT_QUEUED = "The sync could not be queued (task queue unavailable); run it again"
SYNC_RUNNING = "A sync of this source is already running; its result shows here when it finishes."


class SyncRunning(SourceConfigError):
    """A sync holds the source: another one queued now would find it busy and do nothing."""


def source_sync_enqueue(*, tenant: Tenant, source: KnowledgeSource) -> None:
    """Queue a sync of the tenant's URL source once the current transaction commits. Raises
    ``SyncRunning`` while a sync holds the source."""
    if source.tenant_id != tenant.pk:
        raise ValueError("source belongs to another tenant")
    if source.kind != SourceKind.URL:
        raise SourceConfigError(NOT_A_URL_SOURCE.format(kind=source.kind))
    if sync_running(source=source):
        raise SyncRunning(SYNC_RUNNING)
    transaction.on_commit(partial(_sync_queue, source_id=source.pk))


def _sync_queue(*, source_id: int) -> None:
    """Hand the sync to Celery; if the queue refuses it (broker down), the source says so (unless a
    sync holds it) instead of the request that asked failing after its commit. Run eagerly (no
    ``REDIS_URL``) the sync itself runs here: an error it raises is logged, and the source already
    shows it (``sources.INTERNAL_ERROR``)."""
    from knowledge import tasks

    try:
        tasks.sync_source.delay(source_id)
    except OperationalError:
        logger.exception("sync of URL source %s was not queued", source_id)
        KnowledgeSource.objects.filter(sync_free(timezone.now()), pk=source_id).update(error=SYNC_NOT_QUEUED)
    except Exception:
        logger.exception("sync of URL source %s, run eagerly, failed", source_id)
