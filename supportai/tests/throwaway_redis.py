"""A redis-server of the test's own, on a unix socket, that the test may stop mid-way (a Redis outage).

Never the machine's shared Redis: its socket path is unique to this pytest process, so a daphne the
test starts can be pointed at it with a static ``@pytest.mark.daphne_env(REDIS_URL=THROWAWAY_REDIS_URL)``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from channels.layers import channel_layers

from supportai.channel_layer import channels_redis_settings

SOCKET = Path(tempfile.gettempdir()) / f"supportai-test-redis-{os.getpid()}.sock"
THROWAWAY_REDIS_URL = f"unix://{SOCKET}"
START_TIMEOUT_S = 10.0


class ThrowawayRedis:
    def __init__(self) -> None:
        server = shutil.which("redis-server")
        if server is None:
            message = "redis-server is not installed (apt-get install redis-server)"
            if os.environ.get("REQUIRE_REDIS_TESTS"):
                pytest.fail(message)
            pytest.skip(message)
        SOCKET.unlink(missing_ok=True)
        command = [server, "--port", "0", "--unixsocket", str(SOCKET), "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + START_TIMEOUT_S
        while not SOCKET.exists():
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.stop()
                pytest.fail(f"redis-server did not listen on {SOCKET}")
            time.sleep(0.05)

    def stop(self) -> None:
        """The outage: the server goes away and nothing listens on its socket any more."""
        self.process.terminate()
        self.process.wait(timeout=10)
        SOCKET.unlink(missing_ok=True)


@pytest.fixture
def throwaway_redis() -> Iterator[ThrowawayRedis]:
    redis = ThrowawayRedis()
    yield redis
    redis.stop()


@pytest.fixture
def throwaway_layer(settings: Any, throwaway_redis: ThrowawayRedis) -> Iterator[ThrowawayRedis]:
    """This process's channel layer on the throwaway Redis (the cache stays where it was)."""
    settings.CHANNEL_LAYERS = {"default": channels_redis_settings(THROWAWAY_REDIS_URL, f"test-{uuid.uuid4().hex[:8]}")}
    channel_layers.backends.clear()
    yield throwaway_redis
    channel_layers.backends.clear()


@pytest.fixture
def throwaway_cache(settings: Any, throwaway_redis: ThrowawayRedis) -> ThrowawayRedis:
    """This process's cache on the throwaway Redis, as ``REDIS_URL`` sets it (the channel layer stays
    where it was). Changing ``CACHES`` drops the cache connections Django holds, both ways."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": THROWAWAY_REDIS_URL,
            "KEY_PREFIX": f"test-{uuid.uuid4().hex[:8]}",
        }
    }
    return throwaway_redis
