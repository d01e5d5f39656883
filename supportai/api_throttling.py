"""Rate limit of the tenant REST API: requests a minute per API key, and per user for staff sessions.

Counted in Django's cache (Redis when ``REDIS_URL`` is set, so every web process shares the count;
per process otherwise). Anonymous requests are not counted here: the tenant API refuses them with
401, and the public widget endpoints have their own per-IP limits (``chat.limits``). While the cache
is down requests are let through uncounted, with a warning: only authenticated callers reach the
count, and an outage of a counter should not stop a tenant's integrations.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from supportai.api_auth import ApiKeyPrincipal
from supportai.shared_cache import CACHE_ERRORS

if TYPE_CHECKING:  # rest_framework.views imports the throttle classes named in the settings
    from rest_framework.request import Request
    from rest_framework.views import APIView

logger = logging.getLogger(__name__)


class TenantApiRateThrottle(SimpleRateThrottle):
    """At most ``API_REQUESTS_PER_MINUTE`` requests a minute from one API key or one staff user;
    beyond it 429 ``{"detail": ...}`` with ``Retry-After``."""

    scope = "tenant_api"

    def allow_request(self, request: Request, view: APIView) -> bool:
        try:
            return super().allow_request(request, view)
        except CACHE_ERRORS as exc:
            logger.warning("API rate limit not counted, the request is let through (the cache failed: %r)", exc)
            return True

    def get_rate(self) -> str:
        return f"{settings.API_REQUESTS_PER_MINUTE}/min"

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        user = request.user
        if isinstance(user, ApiKeyPrincipal):
            ident = f"key:{user.api_key_id}"
        elif user is not None and user.is_authenticated:
            ident = f"user:{user.pk}"
        else:
            return None
        return self.cache_format % {"scope": self.scope, "ident": ident}
