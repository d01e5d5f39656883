"""Load the query embedding model when a server starts, not when its first customer asks.

Loading and tracing the local model takes a few seconds of CPU; without a warm-up the first
question after a start or a deploy waits for it (about 5 s on this machine). The ASGI entry point
starts one daemon thread that embeds a throwaway query, so the model is ready by the time the first
socket opens. Remote embedding providers need no warm-up; ``KNOWLEDGE_WARM_UP=0`` turns it off.
"""

from __future__ import annotations

import logging
import threading

from knowledge import conf

logger = logging.getLogger(__name__)
WARM_UP_QUERY = "warm up"


def warm_up_in_background() -> threading.Thread | None:
    """Start loading the local model on a daemon thread; None when there is nothing to warm."""
    if not conf.SETTINGS.warm_up or conf.SETTINGS.embedding_provider != "local":
        return None
    thread = threading.Thread(target=_warm_up, name="knowledge-warm-up", daemon=True)
    thread.start()
    return thread


def _warm_up() -> None:
    from knowledge.indexing import default_provider

    try:
        default_provider().embed_query(WARM_UP_QUERY)
    except Exception:  # the first question then loads the model itself, as without a warm-up
        logger.exception("embedding model warm-up failed")
