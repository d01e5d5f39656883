"""A public API call as it reaches us through a reverse proxy, for the per-IP limit tests."""

from __future__ import annotations

import json

from django.test import Client


def post_forwarded(path: str, body: dict[str, str], *, origin: str, peer: str, forwarded_for: str) -> int:
    """The status of a JSON POST to ``path`` from ``origin``, connecting from ``peer`` with
    ``X-Forwarded-For: forwarded_for``."""
    response = Client().post(
        path,
        json.dumps(body),
        content_type="application/json",
        headers={"origin": origin, "x-forwarded-for": forwarded_for},
        REMOTE_ADDR=peer,
    )
    return response.status_code
