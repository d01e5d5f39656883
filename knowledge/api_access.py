"""Who may change knowledge through the REST API, and the request-level errors its views document."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied
from rest_framework.request import Request

from supportai.api_auth import ApiKeyPrincipal
from supportai.apis import staff_tenant
from supportai.models import MANAGER_ROLES, Tenant
from supportai.selectors import membership_get

NOT_MANAGER = "Only owners and admins of the tenant can change knowledge (uploads, sources, syncs)."
NOT_MANAGER_ERROR = {403: "a staff session whose role is not owner or admin, or not tied to exactly one tenant"}
BODY_TOO_LARGE_ERROR = {
    413: "a request body over HTTP_MAX_BODY_BYTES (default 2.5 MiB; refused as it arrives), or JSON or form "
    "fields over DATA_UPLOAD_MAX_MEMORY_SIZE (files do not count)"
}
# DRF refuses a body whose Content-Type none of the view's parsers reads before the view runs.
BODY_TYPE_ERROR = {415: "a body that is not JSON, a url-encoded form or multipart/form-data (its Content-Type)"}


def manager_tenant(request: Request) -> Tenant:
    if isinstance(request.user, ApiKeyPrincipal):
        return request.user.tenant
    return staff_manager_tenant(request.user)


def staff_manager_tenant(user: User | AnonymousUser) -> Tenant:
    """The tenant whose knowledge a staff session changes through the API (its only one), if the user
    is an owner or admin there; else PermissionDenied saying why."""
    tenant = staff_tenant(user)
    membership = membership_get(user=user, tenant_id=tenant.pk)
    if membership is None or membership.role not in MANAGER_ROLES:
        raise PermissionDenied(NOT_MANAGER)
    return tenant
