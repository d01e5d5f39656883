"""Beat's sweep telling the inbox live that a handed-off customer's connection was lost.

A socket whose server process died (killed, its host gone) is closed by no consumer, so nobody says the customer
left: their socket's place just stops beating and expires ``SLOT_TTL_S`` after its last beat (``chat.socket_slots``,
the heartbeat's timeout), leaving the conversation's open mark with no place (``presence.customer_presence``: lost,
by the beat it missed). Every ``SLOT_REFRESH_S`` (``CELERY_BEAT_SCHEDULE``) the sweep reads the presence of the
customers of every open escalation, tenant by tenant (one cache read and at most one query a tenant), and for each
lapse not told yet sends the ``inbox.presence`` event the inbox sockets already forward (``present`` false,
``lost`` true, ``at`` when it was lost by) to that tenant's inbox group, where each of the tenant's sockets watching
the conversation says it; for a live handoff the tenant's queue changes too (its row says it). A lapse is told once:
its cache key names the tenant, the conversation and the lost time, and is claimed with ``add`` before it is told
(a second sweep, or two at once, tell nothing more; a new socket that beats then dies again is a new lapse).

A lapse told is taken back when the socket was not lost after all: its process only stalled past ``SLOT_TTL_S``
(a busy host), and its next beat takes a place again (``chat.socket_presence.socket_beat``). That beat asks
``lapse_taken_back`` before it dates the open mark anew; when the lapse the mark dates was told, its told key is
deleted (by one beat only, the one whose delete found it) and that beat's socket tells the customer back with the
``present`` true event a socket coming back sends (``escalations.presence.publish_presence``).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime

from django.core.cache import DEFAULT_CACHE_ALIAS, caches

from escalations import presence
from escalations.models import Escalation, Mode, Status
from escalations.presence import LEFT_TTL_S, customer_presence, open_key, presence_event
from escalations.realtime import Publication, publish_committed_sync, queue_changed, to_inbox
from supportai.models import Tenant
from supportai.shared_cache import CACHE_ERRORS

logger = logging.getLogger(__name__)
LOST_CONNECTIONS_TASK = "escalations.tell_lost_connections"


def told_key(*, tenant_id: int, conversation_id: int, lost_at: datetime) -> str:
    """The cache key set once the lapse of the conversation lost by ``lost_at`` was told."""
    return f"inbox:lost-told:t{tenant_id}:c{conversation_id}:{lost_at.timestamp():.6f}"


def lapse_taken_back(*, tenant_id: int, conversation_id: int) -> bool:
    """A socket of the conversation took a place again after its own expired (its process stalled, it was not
    lost): whether the lapse its open mark dates was told, which this call alone takes back (its told key is
    deleted: True for one caller only). Call it before the beat dates the mark anew. A cache failure: False."""
    cache = caches[DEFAULT_CACHE_ALIAS]
    try:
        last_beat = cache.get(open_key(tenant_id=tenant_id, conversation_id=conversation_id))
        if not isinstance(last_beat, datetime):
            return False
        key = told_key(tenant_id=tenant_id, conversation_id=conversation_id, lost_at=presence.lost_at(last_beat))
        deleted: bool = cache.delete(key)
    except CACHE_ERRORS as exc:
        logger.warning("lost connection of conversation %s not taken back (the cache failed: %r)", conversation_id, exc)
        return False
    return deleted


def tell_lost_connections() -> int:
    """Tell each tenant's inbox of the lost connections of its handoffs not told yet; how many were told."""
    open_handoffs: dict[int, dict[int, tuple[int, str]]] = defaultdict(dict)
    rows = (
        Escalation.objects.exclude(status=Status.RESOLVED)
        .filter(tenant__is_active=True)  # a deactivated tenant's widget is refused: no customer to tell of
        .values_list("tenant_id", "conversation_id", "pk", "mode")
    )
    for tenant_id, conversation_id, escalation_id, mode in rows:
        open_handoffs[tenant_id][conversation_id] = (escalation_id, mode)
    told = 0
    for tenant in Tenant.objects.filter(pk__in=open_handoffs):
        told += _tell(tenant, open_handoffs[tenant.pk])
    return told


def _tell(tenant: Tenant, handoffs: dict[int, tuple[int, str]]) -> int:
    """Tell ``tenant``'s inbox of the lost connections among ``handoffs`` (conversation id: escalation id, mode)."""
    lost = {cid: known.lost_at for cid, known in customer_presence(tenant=tenant, conversation_ids=handoffs).items()}
    publications: list[Publication] = []
    told = 0
    for conversation_id, lost_at in lost.items():
        if lost_at is None or not _claim(
            told_key(tenant_id=tenant.pk, conversation_id=conversation_id, lost_at=lost_at)
        ):
            continue
        told += 1
        escalation_id, mode = handoffs[conversation_id]
        event = presence_event(
            conversation_id=conversation_id, escalation_id=escalation_id, present=False, at=lost_at, lost=True
        )
        publications.append(to_inbox(tenant.pk, event))
        if mode == Mode.LIVE:
            publications.append(queue_changed(tenant.pk, escalation_id))
    if publications:
        publish_committed_sync(publications)
    return told


def _claim(key: str) -> bool:
    """Whether this sweep is the one to tell the lapse ``key`` names (False: told already, or the cache failed)."""
    try:
        claimed: bool = caches[DEFAULT_CACHE_ALIAS].add(key, True, timeout=LEFT_TTL_S)
    except CACHE_ERRORS as exc:
        logger.warning("lost connection %s not told (the cache failed: %r)", key, exc)
        return False
    return claimed
