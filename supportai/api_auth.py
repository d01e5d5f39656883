"""DRF authentication with tenant API keys (``Authorization: Bearer sai_…``)."""

from __future__ import annotations

from dataclasses import dataclass

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from supportai.api_keys import api_key_authenticate
from supportai.models import Tenant, TenantApiKey


@dataclass(frozen=True)
class ApiKeyPrincipal:
    """``request.user`` for API-key requests: a tenant, not a person."""

    tenant: Tenant
    api_key_id: int
    is_authenticated: bool = True
    is_active: bool = True
    is_staff: bool = False
    is_superuser: bool = False
    is_anonymous: bool = False

    @property
    def pk(self) -> None:  # DRF throttles and logging look for a primary key
        return None

    def __str__(self) -> str:
        return f"api-key:{self.api_key_id}@{self.tenant.slug}"


KEYWORD = "Bearer"
CHALLENGE = f'{KEYWORD} realm="api"'  # the WWW-Authenticate of a 401
MISSING_KEY = "Missing API key after 'Bearer'."
INVALID_KEY = "Invalid or revoked API key."


def bearer_key(header: str) -> str | None:
    """The API key an ``Authorization`` header's value gives ("" when ``Bearer`` names none), or None
    when it is not a ``Bearer`` one (another authentication may take the request)."""
    scheme, _, raw_key = header.partition(" ")
    if not header or scheme.lower() != KEYWORD.lower():  # a case-insensitive token (RFC 9110 §11.1)
        return None
    return raw_key.strip()


class TenantApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = KEYWORD

    def authenticate(self, request: Request) -> tuple[ApiKeyPrincipal, TenantApiKey] | None:
        raw_key = bearer_key(authentication.get_authorization_header(request).decode("latin-1"))
        if raw_key is None:
            return None
        if not raw_key:
            raise exceptions.AuthenticationFailed(MISSING_KEY)
        api_key = api_key_authenticate(raw_key)
        if api_key is None:
            raise exceptions.AuthenticationFailed(INVALID_KEY)
        return ApiKeyPrincipal(tenant=api_key.tenant, api_key_id=api_key.pk), api_key

    def authenticate_header(self, request: Request) -> str:
        return CHALLENGE


class TenantApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "supportai.api_auth.TenantApiKeyAuthentication"
    name = "TenantApiKey"

    def get_security_definition(self, auto_schema: object) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer", "bearerFormat": "sai_<prefix>_<secret>"}
