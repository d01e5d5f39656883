"""Per-tenant configuration memo: read once, forgotten when the tenant's rows change."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from escalations.models import EscalationPolicy
from supportai.memo import TenantMemo
from supportai.models import Tenant

pytestmark = pytest.mark.django_db


class CountingLoader:
    def __init__(self) -> None:
        self.loads: list[int] = []

    def __call__(self, tenant: Tenant) -> Decimal:
        self.loads.append(tenant.pk)
        policy = EscalationPolicy.objects.for_tenant(tenant).first()
        return policy.billing_dispute_threshold if policy else Decimal("100.00")


@pytest.fixture
def loader() -> CountingLoader:
    return CountingLoader()


@pytest.fixture
def memo(loader: CountingLoader, settings: Any) -> Iterator[TenantMemo[Decimal]]:
    settings.TENANT_CONFIG_CACHE_MS = 60_000
    memo = TenantMemo(loader, invalidated_by=["escalations.EscalationPolicy"])
    yield memo
    memo.disconnect()


def test_memo_loads_once_per_tenant_within_its_lifetime(
    memo: TenantMemo[Decimal], loader: CountingLoader, tenant: Tenant, other_tenant: Tenant
) -> None:
    assert [memo.get(tenant), memo.get(tenant), memo.get(other_tenant)] == [Decimal("100.00")] * 3
    assert loader.loads == [tenant.pk, other_tenant.pk]


def test_memo_sees_a_change_saved_in_this_process_at_once(
    memo: TenantMemo[Decimal], loader: CountingLoader, tenant: Tenant
) -> None:
    memo.get(tenant)

    EscalationPolicy.objects.create(tenant=tenant, billing_dispute_threshold=Decimal("250.00"))

    assert memo.get(tenant) == Decimal("250.00")
    assert len(loader.loads) == 2


def test_memo_keeps_a_tenant_entry_when_another_tenant_changes(
    memo: TenantMemo[Decimal], loader: CountingLoader, tenant: Tenant, other_tenant: Tenant
) -> None:
    memo.get(tenant)

    EscalationPolicy.objects.create(tenant=other_tenant, billing_dispute_threshold=Decimal("5.00"))

    assert memo.get(tenant) == Decimal("100.00")
    assert memo.get(other_tenant) == Decimal("5.00")
    assert loader.loads == [tenant.pk, other_tenant.pk]


def test_memo_stops_listening_once_disconnected(
    memo: TenantMemo[Decimal], loader: CountingLoader, tenant: Tenant
) -> None:
    memo.get(tenant)
    memo.disconnect()

    EscalationPolicy.objects.create(tenant=tenant, billing_dispute_threshold=Decimal("250.00"))

    assert memo.get(tenant) == Decimal("100.00")  # still the remembered value: no signal reached it
    assert loader.loads == [tenant.pk]


def test_memo_forgets_on_delete(memo: TenantMemo[Decimal], tenant: Tenant) -> None:
    policy = EscalationPolicy.objects.create(tenant=tenant, billing_dispute_threshold=Decimal("250.00"))
    assert memo.get(tenant) == Decimal("250.00")

    policy.delete()

    assert memo.get(tenant) == Decimal("100.00")


def test_memo_with_zero_lifetime_always_reads(
    memo: TenantMemo[Decimal], loader: CountingLoader, tenant: Tenant, settings: Any
) -> None:
    settings.TENANT_CONFIG_CACHE_MS = 0

    memo.get(tenant)
    memo.get(tenant)

    assert loader.loads == [tenant.pk, tenant.pk]


def test_memo_does_not_keep_a_value_loaded_while_the_tenant_changed(tenant: Tenant, settings: Any) -> None:
    # given a load that races with a change to the same tenant's configuration
    settings.TENANT_CONFIG_CACHE_MS = 60_000
    memo: TenantMemo[int] = TenantMemo(lambda t: racing_load(t), invalidated_by=[])
    loads: list[int] = []

    def racing_load(t: Tenant) -> int:
        loads.append(t.pk)
        if len(loads) == 1:
            memo.forget(t.pk)  # a save lands between our read and our store
        return len(loads)

    # when it is read twice
    first, second = memo.get(tenant), memo.get(tenant)

    # then the value read before the change was not remembered
    assert (first, second) == (1, 2)
