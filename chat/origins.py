"""Which browser origins may open the widget for a tenant.

Origin is not authentication (any non-browser client can send any Origin); it stops other sites
from embedding a tenant's widget in visitors' browsers.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from supportai.models import Tenant


def normalize_origin(origin: str) -> str:
    return origin.strip().rstrip("/").lower()


def origin_allowed(*, tenant: Tenant, origin: str, host: str) -> bool:
    """Allowed when listed for the tenant, or when it is this server itself (the /demo/ page); an
    origin that is no URL (``http://[x``) is not allowed."""
    if not origin:
        return False
    normalized = normalize_origin(origin)
    if normalized in tenant.normalized_origins():
        return True
    try:
        netloc = urlsplit(normalized).netloc
    except ValueError:  # a bracketed host that is no IPv6 address
        return False
    return bool(host) and netloc == host.lower()
