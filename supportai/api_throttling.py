"""Rate limit of the tenant REST API: requests a minute per API key, and per user for staff sessions.

Counted in Django's cache (Redis when ``REDIS_URL`` is set, so every web process shares the count;
per process otherwise). Anonymous requests are not counted here: the tenant API refuses them with
401, and the public widget endpoints have their own per-IP limits (``chat.limits``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from supportai.api_auth import ApiKeyPrincipal

if TYPE_CHECKING:  # rest_framework.views imports the throttle classes named in the settings
    from rest_framework.request import Request
    from rest_framework.views import APIView


class TenantApiRateThrottle(SimpleRateThrottle):
    """At most ``API_REQUESTS_PER_MINUTE`` requests a minute from one API key or one staff user;
    beyond it 429 ``{"detail": ...}`` with ``Retry-After``."""

    scope = "tenant_api"

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
