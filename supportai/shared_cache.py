"""How a failure of the shared cache shows, for the code that decides what it means.

With ``REDIS_URL`` set the cache is Redis (django-redis), which re-raises redis-py's errors: a
connection refused or lost, a timeout, an error reply (``ResponseError``, e.g. out of memory); a socket
timeout may also come through as ``OSError``. The local-memory cache of development never raises
them. Each user of the cache decides whether it fails open or closed (docs/architecture.md, "When the
shared cache fails").
"""

from __future__ import annotations

from redis.exceptions import RedisError

CACHE_ERRORS: tuple[type[Exception], ...] = (RedisError, OSError)
