"""Request bodies for the public HTTP endpoints' tests."""

from __future__ import annotations

import json
from typing import Any


def utf8_body(fields: dict[str, Any], size: int) -> bytes:
    """``fields`` as JSON, UTF-8 and not escaped (as browsers send it), padded to ``size`` bytes by a ``pad`` field."""
    empty = len(json.dumps({**fields, "pad": ""}, ensure_ascii=False).encode())
    pad = "\u00e9" * ((size - empty) // 2) + "a" * ((size - empty) % 2)
    raw = json.dumps({**fields, "pad": pad}, ensure_ascii=False).encode()
    assert len(raw) == size
    return raw
