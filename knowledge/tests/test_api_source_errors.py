"""``POST /api/v1/knowledge/sources/`` answers a bad setting under the field it is about, as its 400
promises (field name -> messages), and a rule of several fields under ``non_field_errors``: never
under ``config``, which is no input field."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from rest_framework.settings import api_settings

from knowledge import conf
from knowledge.models import KnowledgeSource
from knowledge.source_config import BAD_NUMBER, BAD_PREFIX, ONE_ENTRY_URL, PRIVATE_URL
from supportai.models import Tenant
from supportai.quoted import Quoted
from supportai.tests.factories import api_client

SOURCES = "/api/v1/knowledge/sources/"
SITE = "https://help.example.com/"
ONE_ENTRY_URL_ERROR = {api_settings.NON_FIELD_ERRORS_KEY: [ONE_ENTRY_URL]}


@pytest.fixture(autouse=True)
def public_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """The production rule: private addresses are refused (no lookup leaves the test for a literal one)."""
    monkeypatch.setattr(conf, "SETTINGS", dataclasses.replace(conf.SETTINGS, crawl_allow_private=False))


@pytest.mark.parametrize(
    ("settings", "errors"),
    [
        ({}, ONE_ENTRY_URL_ERROR),
        ({"start_url": SITE, "sitemap_url": f"{SITE}sitemap.xml"}, ONE_ENTRY_URL_ERROR),
        ({"start_url": "http://127.0.0.1/"}, {"start_url": [PRIVATE_URL.format(key="start_url", host="127.0.0.1")]}),
        ({"start_url": SITE, "path_prefix": "help"}, {"path_prefix": [BAD_PREFIX.format(value=Quoted("help"))]}),
        (
            {"start_url": SITE, "max_depth": 11},
            {"max_depth": [BAD_NUMBER.format(key="max_depth", minimum=0, maximum=10, value=11)]},
        ),
    ],
)
def test_a_bad_setting_is_refused_under_its_own_field(
    tenant: Tenant, other_tenant: Tenant, settings: dict[str, Any], errors: dict[str, list[str]]
) -> None:
    # when a website source is created with a setting it cannot use
    response = api_client(tenant).post(SOURCES, {"name": "Help", "sync_now": False, **settings}, format="json")
    # then the error is under the field it is about (or the fields' rule), and no tenant got a source
    assert response.status_code == 400
    assert response.json() == errors
    assert not KnowledgeSource.objects.for_tenant(tenant).exists()
    assert not KnowledgeSource.objects.for_tenant(other_tenant).exists()
