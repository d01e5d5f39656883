"""The sources table tells a running sync from one whose worker died holding the source."""

from __future__ import annotations

import re
from datetime import timedelta

from django.utils import dateformat, timezone

from knowledge.models import KnowledgeSource, SourceKind, SourceStatus
from knowledge.source_config import SYNC_LEASE
from supportai.models import Tenant

LAST_ERROR = "2 pages could not be fetched."


def _source_rows(body: str) -> dict[str, list[str]]:
    """The sources table as {name: [cell texts]}, tags stripped."""
    table = body[body.index('data-testid="sources"') :]
    table = table[: table.index("</table>")]
    rows = {}
    for row in re.findall(r"<tr>(.*?)</tr>", table, re.S):
        cells = [
            " ".join(re.sub(r"<[^>]+>", " ", cell).split()) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        ]
        if cells:
            rows[cells[0]] = cells
    return rows


def _syncing_source(tenant: Tenant, name: str, *, started_ago: timedelta) -> KnowledgeSource:
    return KnowledgeSource.objects.create(
        tenant=tenant,
        name=name,
        kind=SourceKind.URL,
        config={"start_url": "https://help.example.com/"},
        status=SourceStatus.SYNCING,
        sync_started_at=timezone.now() - started_ago,
        error=LAST_ERROR,
    )


def test_documents_page_shows_a_sync_whose_claim_ran_out_as_stopped(client, agent, tenant, other_tenant):
    # given a sync whose worker died (its claim not renewed for longer than the lease), a live one,
    # and another tenant's dead one
    dead = _syncing_source(tenant, "Help centre", started_ago=SYNC_LEASE + timedelta(minutes=5))
    _syncing_source(tenant, "Blog", started_ago=timedelta(minutes=1))
    _syncing_source(other_tenant, "Their site", started_ago=SYNC_LEASE + timedelta(minutes=5))
    client.force_login(agent)
    # when
    body = client.get("/console/knowledge/").content.decode()
    # then the dead one is said to have stopped, since when, and what takes it over
    rows = _source_rows(body)
    since = dateformat.format(timezone.localtime(dead.sync_started_at), "Y-m-d H:i")
    assert rows["Help centre"][2] == f"Stopped: no progress since {since}; Sync now takes it over"
    # the live one is syncing; both errors are the previous sync's
    assert rows["Blog"][2] == "Syncing"
    assert rows["Help centre"][6] == rows["Blog"][6] == f"last sync: {LAST_ERROR}"
    assert set(rows) == {"Help centre", "Blog"} and "Their site" not in body


def test_documents_page_shows_an_idle_sources_error_as_it_is(client, agent, tenant):
    source = _syncing_source(tenant, "Help centre", started_ago=timedelta(minutes=1))
    KnowledgeSource.objects.filter(pk=source.pk).update(status=SourceStatus.FAILED, sync_started_at=None)
    client.force_login(agent)
    rows = _source_rows(client.get("/console/knowledge/").content.decode())
    assert rows["Help centre"][2] == "Failed" and rows["Help centre"][6] == LAST_ERROR
