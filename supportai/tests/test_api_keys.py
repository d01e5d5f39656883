from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.contrib.staticfiles import finders
from django.utils import timezone
from rest_framework.test import APIClient

from supportai.api_keys import api_key_authenticate, api_key_create, api_key_revoke
from supportai.models import Tenant, TenantApiKey

pytestmark = pytest.mark.django_db


def _bearer(raw_key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    return client


def test_api_key_create_stores_only_a_digest(tenant: Tenant) -> None:
    issued = api_key_create(tenant=tenant, name="ci")
    stored = TenantApiKey.objects.get(pk=issued.api_key.pk)
    assert issued.raw_key.startswith(f"sai_{stored.prefix}_")
    assert stored.hashed_secret == hashlib.sha256(issued.raw_key.encode()).hexdigest()
    assert api_key_authenticate(issued.raw_key) == stored


@pytest.mark.parametrize(
    "mangle",
    [
        lambda k: k + "x",
        lambda k: k[:-1],
        lambda k: "sai_deadbeef_" + k[-20:],
        str.upper,
        lambda k: "sai_" + "\x00" * 8 + "_" + k[-20:],  # PostgreSQL refuses NUL: no query may carry it
    ],
)
def test_api_key_authenticate_rejects_altered_keys(tenant: Tenant, mangle) -> None:
    issued = api_key_create(tenant=tenant, name="ci")
    assert api_key_authenticate(mangle(issued.raw_key)) is None


def test_revoked_key_no_longer_authenticates(tenant: Tenant) -> None:
    issued = api_key_create(tenant=tenant, name="ci")
    api_key_revoke(tenant=tenant, api_key_id=issued.api_key.pk)
    assert api_key_authenticate(issued.raw_key) is None
    response = _bearer(issued.raw_key).get("/api/v1/tenant/")
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid or revoked API key."}


def test_revoke_is_tenant_scoped(tenant: Tenant, other_tenant: Tenant) -> None:
    issued = api_key_create(tenant=tenant, name="ci")
    with pytest.raises(TenantApiKey.DoesNotExist):
        api_key_revoke(tenant=other_tenant, api_key_id=issued.api_key.pk)
    assert api_key_authenticate(issued.raw_key) is not None


def test_last_used_is_recorded_at_most_once_a_minute(tenant: Tenant) -> None:
    issued = api_key_create(tenant=tenant, name="ci")
    first = api_key_authenticate(issued.raw_key)
    assert first is not None
    assert first.last_used_at is not None
    stale = timezone.now() - timedelta(minutes=5)
    TenantApiKey.objects.filter(pk=first.pk).update(last_used_at=stale)
    again = api_key_authenticate(issued.raw_key)
    assert again is not None
    assert again.last_used_at is not None
    assert again.last_used_at > stale


def test_api_returns_the_keys_own_tenant_only(tenant: Tenant, other_tenant: Tenant) -> None:
    mine = api_key_create(tenant=tenant, name="mine").raw_key
    theirs = api_key_create(tenant=other_tenant, name="theirs").raw_key
    assert _bearer(mine).get("/api/v1/tenant/").json()["slug"] == "alpha"
    assert _bearer(theirs).get("/api/v1/tenant/").json()["slug"] == "bravo"


@pytest.mark.parametrize("scheme", ["bearer", "BEARER"])
def test_the_bearer_scheme_is_read_in_any_case(tenant: Tenant, scheme: str) -> None:
    # RFC 9110 §11.1: an authentication scheme is a case-insensitive token
    raw = api_key_create(tenant=tenant, name="ci").raw_key
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"{scheme} {raw}")
    assert client.get("/api/v1/tenant/").json()["slug"] == "alpha"


def test_api_without_credentials_is_401(db: None) -> None:
    assert APIClient().get("/api/v1/tenant/").status_code in (401, 403)
    assert _bearer("").get("/api/v1/tenant/").status_code in (401, 403)


def test_api_key_of_inactive_tenant_is_refused(tenant: Tenant) -> None:
    raw = api_key_create(tenant=tenant, name="ci").raw_key
    Tenant.objects.filter(pk=tenant.pk).update(is_active=False)
    assert _bearer(raw).get("/api/v1/tenant/").status_code == 401


def test_staff_session_uses_their_single_tenant(owner: User) -> None:
    client = APIClient()
    client.force_authenticate(owner)
    assert client.get("/api/v1/tenant/").json()["slug"] == "alpha"


def test_openapi_schema_and_docs_are_served(db: None) -> None:
    client = APIClient()
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    body = schema.json()
    assert "/api/v1/tenant/" in body["paths"]
    assert body["components"]["securitySchemes"]["TenantApiKey"]["scheme"] == "bearer"
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    # Swagger UI comes from our own static files: the page works with no internet
    page = docs.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page
    assert "cdn." not in page and "https://" not in page.replace("https://swagger.io", "")
    assert finders.find("drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
