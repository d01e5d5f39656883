"""A stored answer's usage is read from its own CostEvent rows through an index, not by scanning
every call of its tenant (``chat.services._record_usage``). A plan, not a timing."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.db.models import Sum

from routing.models import CallOutcome, CostEvent, Tier
from supportai.models import Tenant

CALLS = 20_000


def _plan_nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return [plan, *(node for child in plan.get("Plans", []) for node in _plan_nodes(child))]


@pytest.mark.django_db
def test_a_messages_usage_is_read_through_the_message_index(tenant: Tenant, other_tenant: Tenant) -> None:
    # given a busy tenant's calls, one or two per answered message, beside another tenant's
    for owner in (tenant, other_tenant):
        CostEvent.objects.bulk_create(
            (
                CostEvent(
                    tenant=owner,
                    message_id=n // 2,
                    provider="local",
                    model="local",
                    tier=Tier.LOCAL,
                    outcome=CallOutcome.SUCCESS,
                    cost_usd=Decimal("0.0001"),
                )
                for n in range(CALLS)
            ),
            batch_size=5000,
        )
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {CostEvent._meta.db_table}")
    # when the usage of one message is summed as a stored answer sums it
    calls = CostEvent.objects.for_tenant(tenant).filter(message_id=4321)
    usage = calls.aggregate(total=Sum("cost_usd"))
    sql, params = calls.values("cost_usd").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        [[explained]] = cursor.fetchall()
    plan = (json.loads(explained) if isinstance(explained, str) else explained)[0]["Plan"]
    # then PostgreSQL reads the message's rows from the index
    assert usage["total"] == Decimal("0.0002")
    indexes = {node.get("Index Name") for node in _plan_nodes(plan)}
    assert "costevent_tenant_message" in indexes
