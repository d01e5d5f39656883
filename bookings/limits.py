"""Attempt limits for ownership proofs (confirmation code + email), per conversation and per IP.

Counters live in the shared cache (fixed windows), so every process counts together. Only failed
proofs count: a customer who knows their code and email is never slowed down.
"""

from __future__ import annotations

import time

from django.core.cache import cache

from bookings.phrases import BookingText, english
from supportai.client_address import limit_key

CONVERSATION_FAILURES = 5
CONVERSATION_WINDOW_S = 15 * 60
IP_FAILURES = 20
IP_WINDOW_S = 60 * 60
TOO_MANY = english(BookingText.TOO_MANY_ATTEMPTS)
CANNOT_COUNT = english(BookingText.CANNOT_COUNT)


def _key(scope: str, ident: str, window: int) -> str:
    return f"bookings:proof:{scope}:{ident}:{int(time.time() // window)}"


def _keys(conversation_id: int, ip: str) -> list[tuple[str, int, int]]:
    keys = [(_key("conv", str(conversation_id), CONVERSATION_WINDOW_S), CONVERSATION_FAILURES, CONVERSATION_WINDOW_S)]
    if ip:
        keys.append((_key("ip", limit_key(ip), IP_WINDOW_S), IP_FAILURES, IP_WINDOW_S))
    return keys


def proof_allowed(*, conversation_id: int, ip: str) -> bool:
    return all(int(cache.get(key) or 0) < limit for key, limit, _ in _keys(conversation_id, ip))


def proof_failed(*, conversation_id: int, ip: str) -> None:
    for key, _, window in _keys(conversation_id, ip):
        if not cache.add(key, 1, timeout=window * 2):
            try:
                cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.set(key, 1, timeout=window * 2)
