from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from supportai.console.tenancy import NO_MEMBERSHIP, SESSION_KEY
from supportai.models import Role, Tenant
from supportai.tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def _client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_console_requires_login(db: None) -> None:
    response = Client().get("/console/")
    assert response.status_code == 302
    assert response["Location"].startswith("/console/login/")


def test_login_page_logs_in_with_password(owner: User) -> None:
    client = Client()
    response = client.post("/console/login/", {"username": "alice", "password": "correct-horse-battery"})
    assert response.status_code == 302
    assert "Alpha Clinic" in client.get("/console/").text


def test_login_with_wrong_password_shows_error(owner: User) -> None:
    response = Client().post("/console/login/", {"username": "alice", "password": "nope"})
    assert response.status_code == 200
    assert 'role="alert"' in response.text


def test_console_home_shows_current_tenant_and_navigation(owner: User, other_tenant: Tenant) -> None:
    response = _client_for(owner).get("/console/")
    assert response.status_code == 200
    for label in ("Conversations", "Inbox", "Knowledge", "Analytics", "Experiments", "Settings"):
        assert label in response.text
    assert "Alpha Clinic" in response.text
    assert "Bravo Spa" not in response.text
    assert 'id="tenant-switch"' not in response.text  # one tenant: no switcher


def test_user_without_membership_gets_403(db: None) -> None:
    loner = UserFactory.create(username="loner")
    response = _client_for(loner).get("/console/")
    assert response.status_code == 403
    assert NO_MEMBERSHIP in response.text  # says why and what to do, not just "403 Forbidden"


def test_tenant_switcher_changes_tenant_for_members(owner: User, other_tenant: Tenant) -> None:
    # given alice also belongs to the other tenant
    MembershipFactory.create(user=owner, tenant=other_tenant, role=Role.ANALYST)
    client = _client_for(owner)
    assert 'id="tenant-switch"' in client.get("/console/").text
    # when
    response = client.post("/console/switch-tenant/", {"tenant_id": other_tenant.pk, "next": "/console/knowledge/"})
    # then
    assert response.status_code == 302
    assert response["Location"] == "/console/knowledge/"
    assert client.session[SESSION_KEY] == other_tenant.pk
    assert 'data-testid="current-tenant">Bravo Spa' in client.get("/console/").text


@pytest.mark.parametrize(
    ("page", "landing"),
    [
        ("/console/knowledge/sources/7/edit/", "/console/knowledge/"),
        ("/console/conversations/12/", "/console/conversations/"),
        ("/console/bookings/services/3/", "/console/bookings/"),
        ("/console/knowledge/search/", "/console/knowledge/search/"),
    ],
)
def test_tenant_switcher_leaves_a_page_of_one_object_for_its_section(
    owner: User, other_tenant: Tenant, page: str, landing: str
) -> None:
    # given alice also belongs to the other tenant, which has no object of the page's id
    MembershipFactory.create(user=owner, tenant=other_tenant, role=Role.ANALYST)
    # when she switches there from that page
    response = _client_for(owner).post("/console/switch-tenant/", {"tenant_id": other_tenant.pk, "next": page})
    # then she lands on its section (a page of no object stays)
    assert response["Location"] == landing


def test_tenant_switcher_refuses_foreign_tenant(owner: User, other_tenant: Tenant) -> None:
    client = _client_for(owner)
    response = client.post("/console/switch-tenant/", {"tenant_id": other_tenant.pk})
    assert response.status_code == 400
    assert SESSION_KEY not in client.session
    assert "Bravo Spa" not in client.get("/console/").text


def test_tenant_switcher_rejects_junk_and_offsite_redirects(owner: User, tenant: Tenant) -> None:
    client = _client_for(owner)
    assert client.post("/console/switch-tenant/", {"tenant_id": "abc"}).status_code == 400
    response = client.post("/console/switch-tenant/", {"tenant_id": tenant.pk, "next": "https://evil.example/"})
    assert response["Location"] == "/console/"


def test_stale_session_tenant_falls_back_to_a_membership(owner: User, other_tenant: Tenant) -> None:
    client = _client_for(owner)
    session = client.session
    session[SESSION_KEY] = other_tenant.pk  # e.g. membership removed since
    session.save()
    assert 'data-testid="current-tenant">Alpha Clinic' in client.get("/console/").text


def test_unknown_section_is_404(owner: User) -> None:
    assert _client_for(owner).get("/console/nope/").status_code == 404


def test_a_console_page_reads_the_users_memberships_once(owner: User, other_tenant: Tenant) -> None:
    # given an owner who is also a member of a second tenant, acting for the second one
    MembershipFactory(user=owner, tenant=other_tenant, role=Role.AGENT)
    client = _client_for(owner)
    session = client.session
    session[SESSION_KEY] = other_tenant.pk
    session.save()
    # when a console page is rendered (the view, the navigation and the tenant switcher all need them)
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/console/knowledge/")
    # then the memberships were read in one query, and the page acts for the chosen tenant
    assert response.status_code == 200
    membership_reads = [q["sql"] for q in queries.captured_queries if 'FROM "supportai_membership"' in q["sql"]]
    assert len(membership_reads) == 1, membership_reads
    assert response.context["console_membership"].tenant_id == other_tenant.pk
    listed = {membership.tenant_id for membership in response.context["console_memberships"]}
    assert listed == set(owner.memberships.values_list("tenant_id", flat=True))
    assert other_tenant.pk in listed
