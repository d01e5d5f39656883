"""A service with bookings is not deleted on its own (its bookings keep it), by the admin's delete page,
its bulk action or the ORM; one with none is, and the tenant's deletion takes both (supportai's
test_tenant_deletion)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.db.models import RestrictedError

from bookings.models import Booking, Service
from bookings.tests.conftest import customer_booking, logged_in, open_every_day
from bookings.tests.factories import ServiceFactory
from supportai.models import Tenant

pytestmark = pytest.mark.django_db

MASSAGE_HELD = (
    "A service with bookings cannot be deleted, its bookings keep it: Massage (2 bookings). "
    "Untick Active to stop offering it; it goes when its tenant is deleted."
)


@pytest.fixture
def massage(tenant: Tenant) -> Service:
    """A service booked twice."""
    open_every_day(tenant, capacity=2)
    service: Service = ServiceFactory.create(tenant=tenant, name="Massage")
    customer_booking(tenant, service)
    customer_booking(tenant, service, name="Bea", email="bea@example.org")
    return service


def _messages(response: object) -> list[str]:
    return [str(message) for message in response.context["messages"]]  # type: ignore[attr-defined]


def test_admin_delete_page_refuses_a_booked_service_and_says_why(owner: User, massage: Service) -> None:
    response = logged_in(owner).post(f"/admin/bookings/service/{massage.pk}/delete/", {"post": "yes"}, follow=True)
    assert _messages(response) == [MASSAGE_HELD]
    assert Service.objects.filter(pk=massage.pk).exists()
    assert Booking.objects.filter(service=massage).count() == 2


def test_admin_bulk_delete_refuses_all_when_one_service_is_booked(
    owner: User, tenant: Tenant, massage: Service
) -> None:
    unbooked = ServiceFactory.create(tenant=tenant, name="Facial")
    form = {"action": "delete_selected", "_selected_action": [massage.pk, unbooked.pk], "post": "yes"}
    response = logged_in(owner).post("/admin/bookings/service/", form, follow=True)
    assert _messages(response) == [MASSAGE_HELD]
    assert Service.objects.filter(pk__in=[massage.pk, unbooked.pk]).count() == 2


def test_admin_deletes_a_service_with_no_bookings(owner: User, tenant: Tenant, massage: Service) -> None:
    unbooked = ServiceFactory.create(tenant=tenant, name="Facial")
    response = logged_in(owner).post(f"/admin/bookings/service/{unbooked.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Service.objects.filter(pk=unbooked.pk).exists()
    assert Service.objects.filter(pk=massage.pk).exists()


def test_orm_delete_of_a_booked_service_is_refused(massage: Service) -> None:
    with pytest.raises(RestrictedError):
        massage.delete()
    assert Booking.objects.filter(service=massage).count() == 2
