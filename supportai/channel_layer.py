"""The Redis channel layer's settings: the project's ``CHANNEL_LAYERS`` with ``REDIS_URL``, and the tests'."""

from __future__ import annotations

# How long opening a connection to Redis may take (redis-py's own default).
REDIS_CONNECT_TIMEOUT_S = 5


def channels_redis_settings(url: str, prefix: str) -> dict[str, object]:
    """A ``CHANNEL_LAYERS`` entry for channels_redis on the Redis at ``url``.

    Its sockets have no read or write timeout, as channels_redis expects (redis-py before 8 had none).
    redis-py 8's 5 s default breaks it twice: a receive blocks in BZPOPMIN for 5 s, as long as that
    timeout, so an idle receive can end in TimeoutError; and every command is then sent through
    ``asyncio.wait_for``, which on Python 3.11 drops a cancellation arriving as the send completes, so
    a closing socket's cancelled receive goes on and ends 5 s later in TimeoutError, not cancelled."""
    host = {"address": url, "socket_timeout": None, "socket_connect_timeout": REDIS_CONNECT_TIMEOUT_S}
    return {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [host], "prefix": prefix}}
