"""A staff session acts through the REST API for its only active tenant; with two tenants, or none
active, it is refused (NO_TENANT) rather than answered with one of them."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from knowledge.models import Document
from knowledge.tests.factories import add_document
from supportai.apis import NO_TENANT
from supportai.models import Role, Tenant
from supportai.tests.factories import MembershipFactory, UserFactory

DOCUMENTS = "/api/v1/knowledge/documents/"
SEARCH = "/api/v1/knowledge/search/"


def _session_of(*memberships: tuple[Tenant, Role]) -> APIClient:
    user = UserFactory.create(is_staff=True)
    for tenant, role in memberships:
        MembershipFactory.create(user=user, tenant=tenant, role=role)
    client = APIClient()
    client.force_login(user)
    return client


@pytest.fixture
def both_hold_parking(tenant: Tenant, other_tenant: Tenant) -> None:
    add_document(tenant, "Alpha parking", "Free parking behind the clinic.")
    add_document(other_tenant, "Bravo parking", "Valet parking at the spa.")


def _refused_without_titles(response) -> None:
    assert response.status_code == 403
    assert response.json() == {"detail": NO_TENANT}
    assert "Alpha parking" not in response.text and "Bravo parking" not in response.text


def test_a_session_with_one_tenant_lists_and_searches_that_tenants_documents_only(
    tenant: Tenant, other_tenant: Tenant, both_hold_parking: None
) -> None:
    # given a staff member of the tenant only (the positive control of the refusals below)
    client = _session_of((tenant, Role.OWNER))
    # when
    listed = client.get(DOCUMENTS)
    found = client.post(SEARCH, {"query": "parking", "k": 5}, format="json")
    # then
    assert listed.status_code == 200 and found.status_code == 200
    assert [d["title"] for d in listed.json()["results"]] == ["Alpha parking"]
    assert [p["title"] for p in found.json()] == ["Alpha parking"]


@pytest.mark.parametrize("role", [Role.OWNER, Role.AGENT])
def test_a_session_with_two_tenants_is_refused_rather_than_given_one_of_them(
    tenant: Tenant, other_tenant: Tenant, both_hold_parking: None, role: Role
) -> None:
    # given a staff member of both tenants: the session does not say which one it acts for
    client = _session_of((tenant, role), (other_tenant, role))
    # when it lists documents, searches, and uploads
    listed = client.get(DOCUMENTS)
    found = client.post(SEARCH, {"query": "parking", "k": 5}, format="json")
    uploaded = client.post(DOCUMENTS, {"files": [SimpleUploadedFile("a.md", b"# A\n\nx")]}, format="multipart")
    # then each is refused with NO_TENANT, showing neither tenant's documents, and nothing is stored
    for response in (listed, found, uploaded):
        _refused_without_titles(response)
    assert Document.objects.count() == 2


def test_a_session_whose_only_tenant_is_inactive_is_refused(
    tenant: Tenant, other_tenant: Tenant, both_hold_parking: None
) -> None:
    # given an owner of a tenant that has since been deactivated
    client = _session_of((tenant, Role.OWNER))
    Tenant.objects.filter(pk=tenant.pk).update(is_active=False)
    # when
    listed = client.get(DOCUMENTS)
    found = client.post(SEARCH, {"query": "parking", "k": 5}, format="json")
    uploaded = client.post(DOCUMENTS, {"files": [SimpleUploadedFile("a.md", b"# A\n\nx")]}, format="multipart")
    # then
    for response in (listed, found, uploaded):
        _refused_without_titles(response)
    assert Document.objects.count() == 2
