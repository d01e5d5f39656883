"""Tenant scoping of the admin mixin: staff see and edit only their tenant's rows."""

from __future__ import annotations

import warnings

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.test import Client

from supportai.api_keys import api_key_create
from supportai.models import EndUser, Role, Tenant, TenantApiKey
from supportai.tests.factories import EndUserFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def customers(tenant: Tenant, other_tenant: Tenant) -> tuple[EndUser, EndUser]:
    return EndUserFactory.create(tenant=tenant, full_name="Ada Mine"), EndUserFactory.create(
        tenant=other_tenant, full_name="Zed Theirs"
    )


def _client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_changelist_shows_only_own_tenant_rows(owner: User, customers: tuple[EndUser, EndUser]) -> None:
    response = _client_for(owner).get("/admin/supportai/enduser/")
    assert response.status_code == 200
    assert "Ada Mine" in response.text
    assert "Zed Theirs" not in response.text


def test_other_tenants_row_cannot_be_opened_or_changed(owner: User, customers: tuple[EndUser, EndUser]) -> None:
    # given
    _, theirs = customers
    client = _client_for(owner)
    # when
    view = client.get(f"/admin/supportai/enduser/{theirs.pk}/change/")
    post = client.post(f"/admin/supportai/enduser/{theirs.pk}/change/", {"full_name": "hijacked"})
    delete = client.post(f"/admin/supportai/enduser/{theirs.pk}/delete/", {"post": "yes"})
    # then: the row is invisible (redirect to the index with "doesn't exist") and untouched
    assert view.status_code == 302
    assert post.status_code == 302
    assert delete.status_code == 302
    theirs.refresh_from_db()
    assert theirs.full_name == "Zed Theirs"


def test_tenant_choices_are_limited_to_managed_tenants(owner: User, other_tenant: Tenant) -> None:
    response = _client_for(owner).get("/admin/supportai/enduser/add/")
    assert response.status_code == 200
    assert "Alpha Clinic" in response.text
    assert "Bravo Spa" not in response.text


def test_creating_a_row_in_another_tenant_is_refused(owner: User, other_tenant: Tenant) -> None:
    response = _client_for(owner).post(
        "/admin/supportai/enduser/add/",
        {"tenant": other_tenant.pk, "email": "sneaky@example.org", "full_name": "Sneaky"},
    )
    assert response.status_code == 200  # form redisplayed with a "select a valid choice" error
    assert "Select a valid choice" in response.text
    assert not EndUser.objects.filter(full_name="Sneaky").exists()


def test_agent_can_view_but_not_change(agent: User, customers: tuple[EndUser, EndUser]) -> None:
    mine, _ = customers
    client = _client_for(agent)
    assert client.get(f"/admin/supportai/enduser/{mine.pk}/change/").status_code == 200
    response = client.post(f"/admin/supportai/enduser/{mine.pk}/change/", {"tenant": mine.tenant_id, "full_name": "x"})
    assert response.status_code == 403
    mine.refresh_from_db()
    assert mine.full_name == "Ada Mine"


def test_superuser_sees_every_tenant(customers: tuple[EndUser, EndUser]) -> None:
    root = UserFactory.create(username="root", is_staff=True, is_superuser=True)
    response = _client_for(root).get("/admin/supportai/enduser/")
    assert "Ada Mine" in response.text
    assert "Zed Theirs" in response.text


def test_tenant_admin_lists_only_own_tenants(owner: User, other_tenant: Tenant) -> None:
    response = _client_for(owner).get("/admin/supportai/tenant/")
    assert "Alpha Clinic" in response.text
    assert "Bravo Spa" not in response.text
    assert _client_for(owner).get(f"/admin/supportai/tenant/{other_tenant.pk}/change/").status_code == 302


def test_api_key_created_in_admin_is_shown_once_and_stored_hashed(owner: User, tenant: Tenant) -> None:
    # when
    response = _client_for(owner).post(
        "/admin/supportai/tenantapikey/add/", {"tenant": tenant.pk, "name": "CRM sync"}, follow=True
    )
    # then
    key = TenantApiKey.objects.get(tenant=tenant, name="CRM sync")
    shown = [m.message for m in response.context["messages"]]
    assert any(f"sai_{key.prefix}_" in message for message in shown)
    raw = next(m for m in shown if "sai_" in m).rsplit(" ", 1)[-1]
    assert raw not in key.hashed_secret
    assert len(key.hashed_secret) == 64
    assert raw not in _client_for(owner).get(f"/admin/supportai/tenantapikey/{key.pk}/change/").text


def test_membership_admin_hides_other_tenants_staff(owner: User, outsider: User) -> None:
    dana = UserFactory.create(username="dana")
    MembershipFactory.create(tenant=Tenant.objects.get(slug="alpha"), role=Role.ANALYST, user=dana)
    response = _client_for(owner).get("/admin/supportai/membership/")
    assert "dana" in response.text
    assert "charlie" not in response.text


def test_identity_secret_rotation_action_is_for_managers_of_the_tenant_only(
    owner: User, agent: User, tenant: Tenant, other_tenant: Tenant
) -> None:
    action = {"action": "rotate_identity_secret", "_selected_action": [tenant.pk, other_tenant.pk]}
    # an agent cannot run it
    _client_for(agent).post("/admin/supportai/tenant/", action, follow=True)
    assert Tenant.objects.get(pk=tenant.pk).identity_secret == ""
    # the owner rotates their own tenant's secret (shown once) and never another tenant's
    response = _client_for(owner).post("/admin/supportai/tenant/", action, follow=True)
    secret = Tenant.objects.get(pk=tenant.pk).identity_secret
    assert secret and any(secret in m.message for m in response.context["messages"])
    assert Tenant.objects.get(pk=other_tenant.pk).identity_secret == ""


def _tenant_form(tenant: Tenant, **changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "name": tenant.name,
        "slug": tenant.slug,
        "allowed_origins": ",".join(tenant.allowed_origins),
        "timezone": tenant.timezone,
        "locale": tenant.locale,
        "brand_colour": tenant.brand_colour,
        "logo_url": tenant.logo_url,
        "escalation_email": tenant.escalation_email,
        "monthly_llm_budget_usd": str(tenant.monthly_llm_budget_usd),
        "is_active": "on",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


@pytest.mark.parametrize("origin", ["https://[x", "https://[x]"])
def test_tenant_allowed_origin_that_is_no_url_is_refused_with_a_message(
    owner: User, tenant: Tenant, origin: str
) -> None:
    before = list(tenant.allowed_origins)
    response = _client_for(owner).post(
        f"/admin/supportai/tenant/{tenant.pk}/change/", _tenant_form(tenant, allowed_origins=origin)
    )
    assert response.status_code == 200
    assert "allowed_origins" in response.context["adminform"].form.errors
    tenant.refresh_from_db()
    assert tenant.allowed_origins == before
    with pytest.raises(ValidationError) as refused:
        Tenant(name="Gamma", slug="gamma", allowed_origins=[origin]).clean_fields()
    assert refused.value.message_dict["allowed_origins"] == [
        f"Item 1 in the array did not validate: {origin!r} is not an origin like https://www.example.com"
    ]


def test_tenant_staff_cannot_deactivate_their_tenant_superusers_can(owner: User, tenant: Tenant) -> None:
    # given: an admin of the tenant (deactivating it would lock every owner out, with no way back)
    admin_user = UserFactory.create(username="mallory", is_staff=True)
    MembershipFactory.create(user=admin_user, tenant=tenant, role=Role.ADMIN)
    # when: the admin and the owner untick "active" (and rename it, which they may)
    for user in (admin_user, owner):
        _client_for(user).post(
            f"/admin/supportai/tenant/{tenant.pk}/change/", _tenant_form(tenant, name="Alpha Care", is_active=None)
        )
    # then
    tenant.refresh_from_db()
    assert (tenant.name, tenant.is_active) == ("Alpha Care", True)
    # a superuser suspends it
    root = UserFactory.create(username="root", is_staff=True, is_superuser=True)
    response = _client_for(root).post(
        f"/admin/supportai/tenant/{tenant.pk}/change/", _tenant_form(tenant, is_active=None)
    )
    assert response.status_code == 302
    tenant.refresh_from_db()
    assert not tenant.is_active


def test_api_key_revoke_action_is_for_managers_and_refuses_other_tenants_keys_as_a_whole(
    owner: User, agent: User, tenant: Tenant, other_tenant: Tenant
) -> None:
    # given: alice owns Alpha and is only an agent of Bravo, so she sees Bravo's keys
    MembershipFactory.create(user=owner, tenant=other_tenant, role=Role.AGENT)
    alpha_key = api_key_create(tenant=tenant, name="alpha").api_key
    bravo_key = api_key_create(tenant=other_tenant, name="bravo").api_key
    revoke = {"action": "revoke_keys"}
    alphas = TenantApiKey.objects.filter(pk=alpha_key.pk)
    # when: bob (an agent) tries
    by_agent = _client_for(agent).post("/admin/supportai/tenantapikey/", {**revoke, "_selected_action": [alpha_key.pk]})
    # then: the action is not his
    assert "revoke_keys" not in _client_for(agent).get("/admin/supportai/tenantapikey/").text
    assert "revoke_keys" not in by_agent.text
    assert alphas.get().revoked_at is None
    # when: alice selects both tenants' keys
    both = _client_for(owner).post(
        "/admin/supportai/tenantapikey/", {**revoke, "_selected_action": [alpha_key.pk, bravo_key.pk]}
    )
    # then: refused as a whole, not "Revoked 1 key(s)" with Bravo's key still working
    assert both.status_code == 403
    assert not TenantApiKey.objects.filter(pk__in=[alpha_key.pk, bravo_key.pk], revoked_at__isnull=False).exists()
    # when: only Alpha's
    mine = _client_for(owner).post(
        "/admin/supportai/tenantapikey/", {**revoke, "_selected_action": [alpha_key.pk]}, follow=True
    )
    assert "Revoked 1 key(s)." in [m.message for m in mine.context["messages"]]
    assert alphas.get().revoked_at is not None


def test_an_owner_who_removes_their_own_membership_is_sent_to_the_admin_index(owner: User, tenant: Tenant) -> None:
    # given a second owner, so that the first may leave
    MembershipFactory.create(tenant=tenant, role=Role.OWNER, user=UserFactory.create(username="dana"))
    own = owner.memberships.get(tenant=tenant)
    # when the owner deletes their own membership
    response = _client_for(owner).post(f"/admin/supportai/membership/{own.pk}/delete/", {"post": "yes"})
    # then it is gone, and the page goes where they may still go, not to the memberships they can no longer see
    assert not owner.memberships.filter(tenant=tenant).exists()
    assert response.status_code == 302 and response["Location"] == "/admin/"


def test_admin_url_fields_read_a_bare_address_as_https(owner: User, tenant: Tenant) -> None:
    # given a tenant's change page, whose logo URL is a URLField
    client = _client_for(owner)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)  # Django's RemovedInDjango60Warning among them
        # when it is drawn (the form is built with every URLField)
        response = client.get(f"/admin/supportai/tenant/{tenant.pk}/change/")
    # then no deprecation is raised, and the field says which scheme a bare address gets
    assert response.status_code == 200
    assert response.context["adminform"].form.fields["logo_url"].assume_scheme == "https"
