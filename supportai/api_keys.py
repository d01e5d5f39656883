"""Tenant API keys: create (shown once), authenticate, revoke.

Key format: ``sai_<prefix>_<secret>``. The prefix (8 characters) is stored in clear to find the row
and to show in lists; the whole key is stored as a SHA-256 digest. API keys carry 190+ bits of
randomness, so a fast hash is enough (no password stretching needed) and lookups stay cheap.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth.models import AnonymousUser, User
from django.db import transaction
from django.utils import timezone

from supportai.models import Tenant, TenantApiKey

KEY_NAMESPACE = "sai"
PREFIX_LENGTH = 8
PREFIX_DIGITS = frozenset("0123456789abcdef")  # prefixes are token_hex
# Writing last_used_at on every request would turn reads into writes; once a minute is enough.
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class IssuedApiKey:
    api_key: TenantApiKey
    raw_key: str


def _digest(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


@transaction.atomic
def api_key_create(*, tenant: Tenant, name: str, created_by: User | AnonymousUser | None = None) -> IssuedApiKey:
    prefix = secrets.token_hex(PREFIX_LENGTH // 2)
    while TenantApiKey.objects.filter(prefix=prefix).exists():
        prefix = secrets.token_hex(PREFIX_LENGTH // 2)
    raw_key = f"{KEY_NAMESPACE}_{prefix}_{secrets.token_urlsafe(32)}"
    api_key = TenantApiKey.objects.create(
        tenant=tenant,
        name=name,
        prefix=prefix,
        hashed_secret=_digest(raw_key),
        created_by=created_by if isinstance(created_by, User) else None,
    )
    return IssuedApiKey(api_key=api_key, raw_key=raw_key)


def api_key_revoke(*, tenant: Tenant, api_key_id: int) -> TenantApiKey:
    api_key = TenantApiKey.objects.for_tenant(tenant).get(pk=api_key_id)
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
    return api_key


def api_key_active_get(raw_key: str) -> TenantApiKey | None:
    """The active key matching ``raw_key``, or None; reads only."""
    parts = raw_key.split("_")
    if len(parts) < 3 or parts[0] != KEY_NAMESPACE or len(parts[1]) != PREFIX_LENGTH:
        return None
    if not PREFIX_DIGITS.issuperset(parts[1]):  # never asked of the database: a NUL there is a DataError
        return None
    api_key = (
        TenantApiKey.objects.select_related("tenant")
        .filter(prefix=parts[1], revoked_at__isnull=True, tenant__is_active=True)
        .first()
    )
    if api_key is None or not hmac.compare_digest(api_key.hashed_secret, _digest(raw_key)):
        return None
    return api_key


def api_key_authenticate(raw_key: str) -> TenantApiKey | None:
    """The active key matching ``raw_key`` (touching ``last_used_at``), or None."""
    api_key = api_key_active_get(raw_key)
    if api_key is None:
        return None
    now = timezone.now()
    if api_key.last_used_at is None or now - api_key.last_used_at > LAST_USED_RESOLUTION:
        TenantApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now
    return api_key
