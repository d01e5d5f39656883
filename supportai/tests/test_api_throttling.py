"""The tenant REST API's rate limit: per API key and per staff user, in the real cache."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from pytest_django.fixtures import Settings
from rest_framework.test import APIClient

from supportai.api_keys import api_key_create
from supportai.models import Tenant
from supportai.tests.throwaway_redis import ThrowawayRedis

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def three_a_minute(settings: Settings) -> None:
    settings.API_REQUESTS_PER_MINUTE = 3
    cache.clear()


def _key_client(tenant: Tenant) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_create(tenant=tenant, name='ci').raw_key}")
    return client


def test_an_api_key_over_its_requests_a_minute_gets_429_and_when_to_retry(tenant: Tenant, other_tenant: Tenant) -> None:
    # given two keys of one tenant and one of another
    busy, quiet, theirs = _key_client(tenant), _key_client(tenant), _key_client(other_tenant)
    # when one key sends a fourth request within the minute
    statuses = [busy.get("/api/v1/tenant/").status_code for _ in range(4)]
    # then the fourth is refused with a JSON reason and a Retry-After of at most a minute
    assert statuses == [200, 200, 200, 429]
    refused = busy.get("/api/v1/tenant/")
    assert refused.status_code == 429 and "throttled" in refused.json()["detail"].lower()
    assert 0 < int(refused["Retry-After"]) <= 60
    # and the other keys, of its tenant or another, are counted apart
    assert quiet.get("/api/v1/tenant/").status_code == 200
    assert theirs.get("/api/v1/tenant/").json()["slug"] == "bravo"


def test_a_staff_session_is_counted_per_user(owner: User) -> None:
    client = APIClient()
    client.force_login(owner)
    assert [client.get("/api/v1/tenant/").status_code for _ in range(4)] == [200, 200, 200, 429]


def test_requests_without_a_key_are_refused_as_unauthenticated_not_counted(db: None) -> None:
    assert {APIClient().get("/api/v1/tenant/").status_code for _ in range(5)} == {401}


@pytest.mark.redis
def test_the_api_answers_uncounted_while_the_cache_is_down(
    throwaway_cache: ThrowawayRedis, tenant: Tenant, other_tenant: Tenant, caplog: pytest.LogCaptureFixture
) -> None:
    # given an API key, and the cache's Redis (where requests are counted) gone
    client = _key_client(tenant)
    throwaway_cache.stop()
    # when it calls the API, more often than its limit
    answers = [client.get("/api/v1/tenant/") for _ in range(4)]
    # then each call is answered, with its own tenant's data, and the server warned it did not count them
    assert [answer.status_code for answer in answers] == [200] * 4
    assert {answer.json()["slug"] for answer in answers} == {tenant.slug} != {other_tenant.slug}
    assert any("API rate limit not counted" in record.getMessage() for record in caplog.records)
