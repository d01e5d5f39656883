"""Every task that takes an id, run by its name as a worker runs a message queued before the row went
(its tenant deleted, or the row itself): it ends quietly, sends nothing and leaves other tenants alone."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core import mail

from bookings.models import Booking, BookingEmail, EmailStatus
from bookings.tests.conftest import customer_booking, open_every_day
from bookings.tests.factories import ServiceFactory
from escalations.models import Channel, DeliveryStatus, NotificationDelivery
from escalations.tests.factories import EscalationFactory
from knowledge.models import Chunk, Document, KnowledgeSource, SourceKind
from knowledge.tests.factories import add_document
from supportai.celery import app
from supportai.models import Tenant
from supportai.tests.factories import TenantFactory

pytestmark = pytest.mark.django_db

Ids = dict[str, int]


def _rows(tenant: Tenant) -> Ids:
    """One row of each kind a task takes the id of, none of whose tasks has run (their on-commit
    enqueues do not run in a test's transaction)."""
    open_every_day(tenant)
    booking = customer_booking(tenant, ServiceFactory.create(tenant=tenant, name="Massage", duration_minutes=60))
    escalation = EscalationFactory.create(conversation__tenant=tenant)
    delivery = NotificationDelivery.objects.create(tenant=tenant, escalation=escalation, channel=Channel.EMAIL)
    source = KnowledgeSource.objects.create(
        tenant=tenant, name="Website", kind=SourceKind.URL, config={"start_url": "https://example.org/"}
    )
    return {
        "tenant": tenant.pk,
        "booking": booking.pk,
        "email": BookingEmail.objects.filter(booking=booking).earliest("pk").pk,
        "delivery": delivery.pk,
        "document": add_document(tenant, "Parking", "Free parking behind the studio.").pk,
        "source": source.pk,
    }


def _state(tenant: Tenant) -> dict[str, object]:
    return {
        "emails": sorted(BookingEmail.objects.filter(tenant=tenant).values_list("status", "attempts")),
        "deliveries": sorted(NotificationDelivery.objects.filter(tenant=tenant).values_list("status", "attempts")),
        "documents": sorted(Document.objects.for_tenant(tenant).values_list("status", "updated_at")),
        "chunks": Chunk.objects.filter(tenant=tenant).count(),
        "sources": sorted(KnowledgeSource.objects.for_tenant(tenant).values_list("status", "last_synced_at")),
    }


# Each task with the arguments of a message about ``gone``'s rows; ``kept`` is another tenant's.
TASKS: dict[str, Callable[[Ids, Ids], tuple[object, ...]]] = {
    "bookings.deliver_email": lambda gone, kept: (gone["email"],),
    "bookings.send_booking_email": lambda gone, kept: (gone["booking"], "confirmation"),
    "escalations.deliver_notification": lambda gone, kept: (gone["delivery"],),
    "knowledge.index_document": lambda gone, kept: (gone["document"],),
    "knowledge.reindex_documents": lambda gone, kept: (gone["tenant"], [gone["document"]]),
    "knowledge.reindex_documents (another tenant's documents)": lambda gone, kept: (
        gone["tenant"],
        [kept["document"]],
    ),
    "knowledge.sync_source": lambda gone, kept: (gone["source"],),
}


@pytest.mark.parametrize("gone_with", ["tenant", "row"])
@pytest.mark.parametrize("label", TASKS)
def test_a_task_for_a_row_deleted_since_it_was_queued_ends_quietly(label: str, gone_with: str, tenant: Tenant) -> None:
    # given the rows of a tenant about to go, and another tenant's
    doomed = TenantFactory.create(name="Doomed", slug="doomed")
    gone, kept = _rows(doomed), _rows(tenant)
    before = _state(tenant)
    # (its email and notification wait to be sent: a task that took the wrong row would send them)
    assert set(BookingEmail.objects.filter(tenant=tenant).values_list("status", flat=True)) == {EmailStatus.PENDING}
    assert before["deliveries"] == [(DeliveryStatus.PENDING, 0)]
    args = TASKS[label](gone, kept)
    # when they are deleted (with their tenant, or alone) before a worker takes the task
    if gone_with == "tenant":
        Tenant.objects.filter(pk=doomed.pk).delete()
    else:
        for model, key in (
            (Booking, "booking"),
            (NotificationDelivery, "delivery"),
            (Document, "document"),
            (KnowledgeSource, "source"),
        ):
            model.objects.filter(pk=gone[key]).delete()
    mail.outbox.clear()
    app.loader.import_default_modules()
    result = app.tasks[label.split(" ")[0]].apply(args=args)
    # then the task ends without an error, sends nothing and changes nothing of the other tenant
    assert result.successful(), result.traceback
    assert mail.outbox == []
    assert _state(tenant) == before
