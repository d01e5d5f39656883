"""Deleting a tenant removes every row of its data, in every app, and nothing of another tenant's.

"Its data" is every row of a model that points at ``Tenant``, directly or through a parent (a
Stripe event through its booking), found by walking ``apps.get_models()``: a model added later
is covered without touching this file, and the fixture must give it a row (a test says so).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.apps import apps
from django.contrib.auth.models import User
from django.db import models
from django.test import Client
from django.utils import timezone

from bookings.models import BlackoutDate, Booking, ConfirmationLevel, Proposal, ProposalAction, StripeEvent
from bookings.tests.conftest import customer_booking, open_every_day
from bookings.tests.factories import ServiceFactory
from chat.models import ConversationRating, FeedbackValue, MessageFeedback
from escalations.models import (
    Channel,
    EscalationEvent,
    EscalationPolicy,
    EventKind,
    NotificationDelivery,
    Status,
    WaitingLine,
)
from escalations.tests.factories import EscalationFactory, MessageFactory
from knowledge.models import RetrievalTuning
from knowledge.tests.factories import add_document
from routing.models import BudgetAlert, CallOutcome, CostEvent, CostSummary, GuardrailEvent, ModelConfig
from supportai.api_keys import api_key_create
from supportai.models import Role, Tenant
from supportai.tests.factories import EndUserFactory, MembershipFactory, TenantFactory, UserFactory

pytestmark = pytest.mark.django_db


def _tenant_paths() -> dict[type[models.Model], str]:
    """Each model whose rows belong to a tenant, with the lookup from it to its ``Tenant``
    (``tenant``, or ``booking__tenant`` for a row that belongs to one through its parent)."""
    paths: dict[type[models.Model], str] = {}
    grew = True
    while grew:
        grew = False
        for model in apps.get_models():
            if model is Tenant or model in paths:
                continue
            for field in model._meta.concrete_fields:
                related = field.related_model if field.is_relation else None
                if related is Tenant or related in paths:
                    assert isinstance(related, type)
                    paths[model] = field.name if related is Tenant else f"{field.name}__{paths[related]}"
                    grew = True
                    break
    return paths


def _fill(tenant: Tenant, staff: User) -> None:
    """One row or more of every kind of a tenant's data, written as the app writes it where a helper exists."""
    # given: staff, customers, keys
    MembershipFactory.create(user=staff, tenant=tenant, role=Role.OWNER)
    customer = EndUserFactory.create(tenant=tenant)
    api_key_create(tenant=tenant, name="ci", created_by=staff)
    # chat
    answer = MessageFactory.create(conversation__tenant=tenant, conversation__end_user=customer)
    conversation = answer.conversation
    MessageFeedback.objects.create(tenant=tenant, message=answer, value=FeedbackValue.UP)
    ConversationRating.objects.create(tenant=tenant, conversation=conversation, rating=5)
    # knowledge (sources, documents, chunks and the keyword index's statistics)
    add_document(tenant, "Parking", "Free parking behind the studio.")
    RetrievalTuning.objects.create(tenant=tenant)
    # routing
    ModelConfig.objects.create(tenant=tenant, tier=1, provider="fake", model="fake-small", temperature=0, max_tokens=64)
    CostEvent.objects.create(tenant=tenant, provider="fake", model="fake-small", tier=1, outcome=CallOutcome.SUCCESS)
    CostSummary.objects.create(tenant=tenant, day=date.today(), tier=1, provider="fake", model="fake-small")
    GuardrailEvent.objects.create(tenant=tenant, stage=GuardrailEvent.Stage.INPUT, flag="pii_email")
    month = date.today().replace(day=1)
    BudgetAlert.objects.create(
        tenant=tenant, month=month, level=BudgetAlert.Level.SOFT, spent_usd=Decimal(40), budget_usd=Decimal(50)
    )
    # bookings (a booking holds its service: the reason a tenant with bookings could not be deleted)
    open_every_day(tenant)
    service = ServiceFactory.create(tenant=tenant, name="Massage")
    BlackoutDate.objects.create(tenant=tenant, service=service, date=date.today() + timedelta(days=60))
    booking = customer_booking(tenant, service)
    Proposal.objects.create(
        tenant=tenant,
        conversation=conversation,
        action=ProposalAction.CANCEL,
        level=ConfirmationLevel.T3,
        summary="Cancel the massage",
        idempotency_key=f"cancel-{booking.pk}",
        expires_at=timezone.now() + timedelta(minutes=10),
        booking=booking,
    )
    StripeEvent.objects.create(
        event_id=f"evt_{tenant.slug}", type="checkout.session.completed", payload={}, booking=booking
    )
    # escalations
    EscalationPolicy.objects.create(tenant=tenant)
    escalation = EscalationFactory.create(conversation=conversation, tenant=tenant, end_user=customer)
    EscalationEvent.objects.create(
        tenant=tenant, escalation=escalation, kind=EventKind.CREATED, to_status=Status.PENDING
    )
    NotificationDelivery.objects.create(tenant=tenant, escalation=escalation, channel=Channel.EMAIL)
    WaitingLine.objects.create(tenant=tenant)


def _rows_of(tenant: Tenant) -> dict[str, list[dict[str, Any]]]:
    return {
        model._meta.label: list(model._default_manager.filter(**{path: tenant}).order_by("pk").values())
        for model, path in _tenant_paths().items()
    }


def _pks_of(tenant: Tenant) -> dict[type[models.Model], list[Any]]:
    return {
        model: list(model._default_manager.filter(**{path: tenant}).values_list("pk", flat=True))
        for model, path in _tenant_paths().items()
    }


@pytest.fixture
def root() -> User:
    user: User = UserFactory.create(username="root", is_staff=True, is_superuser=True)
    return user


@pytest.fixture
def doomed(root: User) -> Tenant:
    tenant: Tenant = TenantFactory.create(name="Doomed Dental", slug="doomed")
    _fill(tenant, UserFactory.create(username="dora", is_staff=True))
    return tenant


@pytest.fixture
def kept(root: User) -> Tenant:
    tenant: Tenant = TenantFactory.create(name="Kept Clinic", slug="kept")
    _fill(tenant, UserFactory.create(username="kim", is_staff=True))
    return tenant


def test_the_fixture_gives_a_row_to_every_kind_of_tenant_data(doomed: Tenant) -> None:
    # A model added later that points at a tenant (directly or through a parent) fails here until
    # ``_fill`` writes a row of it, so the deletion tests below cover it too.
    empty = sorted(label for label, rows in _rows_of(doomed).items() if not rows)
    assert empty == []
    assert "bookings.StripeEvent" in _rows_of(doomed)  # a row that reaches its tenant through a parent


def _delete_through_the_admin_page(client: Client, tenant: Tenant) -> None:
    page = client.get(f"/admin/supportai/tenant/{tenant.pk}/delete/")
    assert page.status_code == 200
    assert page.context["protected"] == []  # nothing would keep the tenant
    assert dict(page.context["model_count"])["bookings"] == 1  # what goes is counted per kind of row
    response = client.post(f"/admin/supportai/tenant/{tenant.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302


def _delete_through_the_admin_action(client: Client, tenant: Tenant) -> None:
    form = {"action": "delete_selected", "_selected_action": [tenant.pk]}
    assert client.post("/admin/supportai/tenant/", form).context["protected"] == []
    response = client.post("/admin/supportai/tenant/", {**form, "post": "yes"})
    assert response.status_code == 302


@pytest.mark.parametrize("how", [_delete_through_the_admin_page, _delete_through_the_admin_action])
def test_deleting_a_tenant_removes_all_its_data_and_nothing_of_another(
    how: Any, root: User, doomed: Tenant, kept: Tenant
) -> None:
    # given two tenants with a row of every kind of data each
    others_before = _rows_of(kept)
    doomed_pks = _pks_of(doomed)
    client = Client()
    client.force_login(root)
    # when a superuser deletes one in the admin
    how(client, doomed)
    # then none of its rows remain, in any app, and the other tenant's are exactly as they were
    assert not Tenant.objects.filter(pk=doomed.pk).exists()
    left = {model._meta.label: model._default_manager.filter(pk__in=pks).count() for model, pks in doomed_pks.items()}
    assert {label: count for label, count in left.items() if count} == {}
    assert _rows_of(kept) == others_before
    # (and its staff users stay: a user may belong to other tenants, removing people is the User admin's)
    assert User.objects.filter(username="dora").exists()


def test_tenant_delete_in_code_takes_its_bookings_with_it(doomed: Tenant, kept: Tenant) -> None:
    # (the path a shell, a script or a throwaway benchmark tenant takes)
    code = Booking.objects.get(tenant=doomed).confirmation_code
    doomed.delete()
    assert not Booking.objects.filter(confirmation_code=code).exists()
    assert Booking.objects.filter(tenant=kept).count() == 1
