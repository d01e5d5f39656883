"""``manage.py sync_sources`` run as an operator runs it: its output is its own lines, not a line per page
fetched from httpx's request log ("HTTP Request: GET …"), which the logging settings keep at WARNING."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from knowledge.models import Document
from knowledge.source_config import url_source_create
from knowledge.tests.site_fake import FakeSite
from supportai.devserver import ROOT
from supportai.models import Tenant

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("local_crawl")]


def test_sync_sources_writes_no_line_per_request(
    test_database_url: str, tenant: Tenant, other_tenant: Tenant, site: FakeSite
) -> None:
    # given a website source of two pages, and the other tenant's source of the same site
    site.article("/", "Welcome", "Our help centre.", links=("/parking",))
    site.article("/parking", "Parking", "Free parking behind the studio.")
    for owner, name in [(tenant, "Website"), (other_tenant, "Theirs")]:
        url_source_create(tenant=owner, name=name, config={"start_url": f"{site.url}/"}, sync_now=False)
    env = {
        **os.environ,
        "DATABASE_URL": test_database_url,
        "LOG_LEVEL": "INFO",
        "KNOWLEDGE_EMBEDDING_PROVIDER": "fake",
        "KNOWLEDGE_CRAWL_ALLOW_PRIVATE": "1",
    }
    # when the tenant's sources are synced by the command, in a process of its own
    command = [sys.executable, "manage.py", "sync_sources", "--tenant", tenant.slug]
    run = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    # then it fetched the pages and wrote its summary, and nothing on stderr
    assert run.returncode == 0, run.stderr
    assert "Website: 2 pages: 2 created" in run.stdout
    assert len(site.requests) >= 2
    assert run.stderr == ""
    # and only this tenant's source was synced
    assert Document.objects.for_tenant(tenant).count() == 2
    assert not Document.objects.for_tenant(other_tenant).exists()
