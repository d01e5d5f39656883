"""Per-process memo of small tenant configuration read on every chat turn.

A chat turn reads a handful of settings that change a few times a year (the tier overrides,
whether the tenant has anything to book, the billing-dispute threshold). Each read is a database
round trip plus ORM work on the turn's critical path. ``TenantMemo`` keeps the loaded value per
tenant for ``TENANT_CONFIG_CACHE_MS``: a change saved through the ORM in this process is seen at
once (model signals forget the tenant's entry), a change made by another process within that time.
Values must be immutable (tuples, frozen dataclasses, numbers). Bulk writes that send no model
signals (``QuerySet.update()``, ``bulk_create``) are seen once the entry expires.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from django.conf import settings
from django.db.models.signals import post_delete, post_save

from supportai.models import Tenant

T = TypeVar("T")


class TenantMemo(Generic[T]):
    def __init__(self, load: Callable[[Tenant], T], *, invalidated_by: Sequence[str]) -> None:
        """``invalidated_by``: ``"app_label.Model"`` names of tenant-scoped models the value depends on."""
        self._load = load
        self._entries: dict[int, tuple[float, T]] = {}
        self._generation: dict[int, int] = {}
        self._lock = threading.Lock()
        self._labels = tuple(invalidated_by)
        for label in self._labels:
            post_save.connect(self._forget, sender=label, weak=False)
            post_delete.connect(self._forget, sender=label, weak=False)

    def disconnect(self) -> None:
        """Stop listening to model signals (a memo that is thrown away, e.g. in tests)."""
        for label in self._labels:
            post_save.disconnect(self._forget, sender=label)
            post_delete.disconnect(self._forget, sender=label)

    def get(self, tenant: Tenant) -> T:
        ttl = settings.TENANT_CONFIG_CACHE_MS / 1000
        now = time.monotonic()
        with self._lock:
            entry = self._entries.get(tenant.pk)
            generation = self._generation.get(tenant.pk, 0)
        if entry is not None and now - entry[0] < ttl:
            return entry[1]
        value = self._load(tenant)
        with self._lock:
            if self._generation.get(tenant.pk, 0) == generation:  # not changed while we were loading
                self._entries[tenant.pk] = (now, value)
        return value

    def forget(self, tenant_id: int) -> None:
        with self._lock:
            self._entries.pop(tenant_id, None)
            self._generation[tenant_id] = self._generation.get(tenant_id, 0) + 1

    def _forget(self, sender: type, instance: Any, **kwargs: Any) -> None:
        tenant_id = getattr(instance, "tenant_id", None)
        if tenant_id is not None:
            self.forget(tenant_id)
