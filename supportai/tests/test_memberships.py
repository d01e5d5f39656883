"""Who may grant which role: only owners touch the owner role, and a tenant always keeps an owner.

The rules live in ``supportai.memberships``; the admin tests check that Django admin's add, change,
delete and bulk-delete paths all go through them.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from supportai.memberships import (
    MembershipRefusal,
    MembershipRefused,
    membership_change_role,
    membership_create,
    membership_delete,
    membership_delete_many,
)
from supportai.models import Membership, Role, Tenant
from supportai.tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager(tenant: Tenant) -> User:
    """A member with the admin role (not an owner) of ``tenant``."""
    user = UserFactory.create(username="mallory", is_staff=True)
    MembershipFactory.create(user=user, tenant=tenant, role=Role.ADMIN)
    return user


def _membership(user: User, tenant: Tenant) -> Membership:
    return Membership.objects.get(user=user, tenant=tenant)


def _client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- service: the admin role ---------------------------------------------------------------------


def test_membership_change_role_admin_cannot_make_themselves_owner(manager: User, owner: User, tenant: Tenant) -> None:
    mine = _membership(manager, tenant)
    with pytest.raises(MembershipRefused) as refused:
        membership_change_role(actor=manager, tenant=tenant, membership_id=mine.pk, role=Role.OWNER)
    assert refused.value.refusal is MembershipRefusal.OWNER_ONLY
    mine.refresh_from_db()
    assert mine.role == Role.ADMIN


def test_membership_change_role_admin_cannot_promote_others_to_owner(
    manager: User, owner: User, agent: User, tenant: Tenant
) -> None:
    theirs = _membership(agent, tenant)
    with pytest.raises(MembershipRefused, match="Only an owner"):
        membership_change_role(actor=manager, tenant=tenant, membership_id=theirs.pk, role=Role.OWNER)
    theirs.refresh_from_db()
    assert theirs.role == Role.AGENT


def test_membership_create_admin_cannot_grant_owner(manager: User, owner: User, tenant: Tenant) -> None:
    newcomer = UserFactory.create(username="erin")
    with pytest.raises(MembershipRefused) as refused:
        membership_create(actor=manager, tenant=tenant, user=newcomer, role=Role.OWNER)
    assert refused.value.refusal is MembershipRefusal.OWNER_ONLY
    assert not Membership.objects.filter(user=newcomer).exists()


def test_membership_admin_cannot_demote_or_remove_the_owner(manager: User, owner: User, tenant: Tenant) -> None:
    owners = _membership(owner, tenant)
    with pytest.raises(MembershipRefused, match="Only an owner"):
        membership_change_role(actor=manager, tenant=tenant, membership_id=owners.pk, role=Role.AGENT)
    with pytest.raises(MembershipRefused, match="Only an owner"):
        membership_delete(actor=manager, tenant=tenant, membership_id=owners.pk)
    owners.refresh_from_db()
    assert owners.role == Role.OWNER


def test_membership_admin_manages_admins_agents_and_analysts(
    manager: User, owner: User, agent: User, tenant: Tenant
) -> None:
    # when
    changed = membership_change_role(
        actor=manager, tenant=tenant, membership_id=_membership(agent, tenant).pk, role=Role.ANALYST
    )
    created = membership_create(actor=manager, tenant=tenant, user=UserFactory.create(), role=Role.ADMIN)
    membership_delete(actor=manager, tenant=tenant, membership_id=changed.pk)
    # then
    assert created.role == Role.ADMIN and created.tenant == tenant
    assert not Membership.objects.filter(pk=changed.pk).exists()


def test_membership_agent_cannot_manage(agent: User, tenant: Tenant) -> None:
    mine = _membership(agent, tenant)
    with pytest.raises(MembershipRefused) as refused:
        membership_change_role(actor=agent, tenant=tenant, membership_id=mine.pk, role=Role.ADMIN)
    assert refused.value.refusal is MembershipRefusal.NOT_A_MANAGER


# --- service: owners and the last owner ---------------------------------------------------------


def test_membership_owner_grants_and_hands_over_ownership(owner: User, manager: User, tenant: Tenant) -> None:
    # when: the owner promotes the admin, then steps down
    membership_change_role(actor=owner, tenant=tenant, membership_id=_membership(manager, tenant).pk, role=Role.OWNER)
    membership_change_role(actor=owner, tenant=tenant, membership_id=_membership(owner, tenant).pk, role=Role.ADMIN)
    # then
    assert _membership(manager, tenant).role == Role.OWNER
    assert _membership(owner, tenant).role == Role.ADMIN


def test_membership_last_owner_cannot_be_demoted_or_removed(owner: User, tenant: Tenant) -> None:
    root = UserFactory.create(username="root", is_staff=True, is_superuser=True)
    owners = _membership(owner, tenant)
    for actor in (owner, root):
        with pytest.raises(MembershipRefused) as refused:
            membership_change_role(actor=actor, tenant=tenant, membership_id=owners.pk, role=Role.ADMIN)
        assert refused.value.refusal is MembershipRefusal.LAST_OWNER
        with pytest.raises(MembershipRefused, match="at least one active owner"):
            membership_delete(actor=actor, tenant=tenant, membership_id=owners.pk)
    owners.refresh_from_db()
    assert owners.role == Role.OWNER


def test_membership_delete_many_of_every_owner_changes_nothing(owner: User, manager: User, tenant: Tenant) -> None:
    # given: two owners
    membership_change_role(actor=owner, tenant=tenant, membership_id=_membership(manager, tenant).pk, role=Role.OWNER)
    both = list(Membership.objects.filter(tenant=tenant))
    # when / then
    with pytest.raises(MembershipRefused) as refused:
        membership_delete_many(actor=owner, memberships=both)
    assert refused.value.refusal is MembershipRefusal.LAST_OWNER
    assert Membership.objects.filter(tenant=tenant).count() == 2


# --- the ORM: bulk QuerySet writes ---------------------------------------------------------------

ALICE_LAST_OWNER = "alice is the last owner of tenant Alpha Clinic; make someone else an owner of it first."


def test_membership_queryset_delete_refuses_leaving_a_tenant_without_an_active_owner(
    owner: User, manager: User, agent: User, tenant: Tenant
) -> None:
    # given: mallory is promoted, then cannot log in, so alice is the only active owner
    Membership.objects.filter(user=manager).update(role=Role.OWNER)
    User.objects.filter(pk=manager.pk).update(is_active=False)
    # when / then: every row, and the tenant's related manager, are refused as a whole
    for memberships in (Membership.objects.filter(tenant=tenant), tenant.memberships.exclude(user=agent)):
        with pytest.raises(MembershipRefused) as refused:
            memberships.delete()
        assert refused.value.refusal is MembershipRefusal.LAST_OWNER_LEAVING
        assert str(refused.value) == ALICE_LAST_OWNER
    assert Membership.objects.filter(tenant=tenant).count() == 3
    # rows that leave alice in place go
    assert Membership.objects.filter(tenant=tenant).exclude(user=owner).delete()[0] == 2


def test_membership_queryset_update_refuses_demoting_or_moving_every_owner(
    owner: User, manager: User, tenant: Tenant, other_tenant: Tenant
) -> None:
    # given: two owners
    Membership.objects.filter(user=manager).update(role=Role.OWNER)
    owners = Membership.objects.filter(tenant=tenant, role=Role.OWNER)
    # when / then: demoting both, or moving them to another tenant, changes nothing
    for change in ({"role": Role.AGENT}, {"tenant": other_tenant}, {"tenant_id": other_tenant.pk}):
        with pytest.raises(MembershipRefused, match=ALICE_LAST_OWNER):
            owners.update(**change)
    assert owners.count() == 2
    # demoting one of two works, and re-granting the role needs no check
    assert owners.filter(user=manager).update(role=Role.ADMIN) == 1
    assert Membership.objects.filter(user=manager).update(role=Role.OWNER) == 1
    # an update that leaves the role alone is not checked either
    assert owners.update(created_at=owner.date_joined) == 2


def test_membership_queryset_update_is_judged_per_tenant(
    owner: User, outsider: User, tenant: Tenant, other_tenant: Tenant
) -> None:
    # given: alice owns Alpha alone and Bravo with charlie, who is also an agent of Alpha
    MembershipFactory.create(user=owner, tenant=other_tenant, role=Role.OWNER)
    MembershipFactory.create(user=outsider, tenant=tenant, role=Role.AGENT)
    # when / then: demoting alice everywhere leaves Alpha without an owner, so nowhere changes
    with pytest.raises(MembershipRefused, match=ALICE_LAST_OWNER):
        Membership.objects.filter(user=owner).update(role=Role.ADMIN)
    assert set(Membership.objects.filter(user=owner).values_list("role", flat=True)) == {Role.OWNER}
    # Bravo keeps charlie, so alice steps down there
    assert Membership.objects.filter(user=owner, tenant=other_tenant).update(role=Role.ADMIN) == 1
    # and charlie cannot leave Bravo by the same path
    with pytest.raises(MembershipRefused, match="charlie is the last owner of tenant Bravo Spa"):
        Membership.objects.filter(user=outsider).delete()
    assert Membership.objects.filter(user=outsider).count() == 2


# --- service: other tenants ---------------------------------------------------------------------


def test_membership_owner_of_other_tenant_cannot_touch_this_tenant(
    outsider: User, owner: User, agent: User, tenant: Tenant, other_tenant: Tenant
) -> None:
    theirs = _membership(agent, tenant)
    # naming this tenant: not a manager of it
    for attempt in (
        lambda: membership_change_role(actor=outsider, tenant=tenant, membership_id=theirs.pk, role=Role.OWNER),
        lambda: membership_delete(actor=outsider, tenant=tenant, membership_id=theirs.pk),
        lambda: membership_create(actor=outsider, tenant=tenant, user=outsider, role=Role.OWNER),
    ):
        with pytest.raises(MembershipRefused) as refused:
            attempt()
        assert refused.value.refusal is MembershipRefusal.NOT_A_MANAGER
    # naming their own tenant with this tenant's row: no such membership there
    with pytest.raises(Membership.DoesNotExist):
        membership_change_role(actor=outsider, tenant=other_tenant, membership_id=theirs.pk, role=Role.OWNER)
    with pytest.raises(Membership.DoesNotExist):
        membership_delete(actor=outsider, tenant=other_tenant, membership_id=theirs.pk)
    with pytest.raises(MembershipRefused):
        membership_delete_many(actor=outsider, memberships=[theirs])
    theirs.refresh_from_db()
    assert theirs.role == Role.AGENT
    assert not Membership.objects.filter(user=outsider, tenant=tenant).exists()


# --- Django admin -------------------------------------------------------------------------------


def test_admin_change_refuses_admin_making_themselves_owner(manager: User, owner: User, tenant: Tenant) -> None:
    mine = _membership(manager, tenant)
    response = _client_for(manager).post(f"/admin/supportai/membership/{mine.pk}/change/", {"role": Role.OWNER})
    assert response.status_code == 200
    assert MembershipRefusal.OWNER_ONLY.value in response.text
    mine.refresh_from_db()
    assert mine.role == Role.ADMIN


def test_admin_change_cannot_move_a_membership_to_another_user_or_tenant(
    owner: User, manager: User, tenant: Tenant
) -> None:
    newcomer = UserFactory.create(username="erin")
    MembershipFactory.create(user=newcomer, tenant=tenant, role=Role.ANALYST)
    owners = _membership(owner, tenant)
    _client_for(owner).post(
        f"/admin/supportai/membership/{owners.pk}/change/", {"user": newcomer.pk, "tenant": tenant.pk, "role": "owner"}
    )
    owners.refresh_from_db()
    assert owners.user == owner


def test_admin_add_refuses_granting_owner(manager: User, owner: User, agent: User, tenant: Tenant) -> None:
    agent_membership = _membership(agent, tenant)
    agent_membership.delete()
    response = _client_for(manager).post(
        "/admin/supportai/membership/add/", {"user": agent.pk, "tenant": tenant.pk, "role": Role.OWNER}
    )
    assert response.status_code == 200
    assert MembershipRefusal.OWNER_ONLY.value in response.text
    assert not Membership.objects.filter(user=agent).exists()


def test_admin_delete_refuses_removing_the_owner(manager: User, owner: User, tenant: Tenant) -> None:
    owners = _membership(owner, tenant)
    client = _client_for(manager)
    page = client.get(f"/admin/supportai/membership/{owners.pk}/delete/", follow=True)
    post = client.post(f"/admin/supportai/membership/{owners.pk}/delete/", {"post": "yes"}, follow=True)
    for response in (page, post):
        assert MembershipRefusal.OWNER_ONLY.value in [m.message for m in response.context["messages"]]
    assert Membership.objects.filter(pk=owners.pk).exists()


def test_admin_bulk_delete_with_the_owner_changes_nothing(
    manager: User, owner: User, agent: User, tenant: Tenant
) -> None:
    selected = list(Membership.objects.filter(tenant=tenant).values_list("pk", flat=True))
    response = _client_for(manager).post(
        "/admin/supportai/membership/",
        {"action": "delete_selected", "_selected_action": selected, "post": "yes"},
        follow=True,
    )
    assert MembershipRefusal.OWNER_ONLY.value in [m.message for m in response.context["messages"]]
    assert Membership.objects.filter(tenant=tenant).count() == 3


def test_admin_bulk_delete_of_agents_by_admin_works(manager: User, owner: User, agent: User, tenant: Tenant) -> None:
    agents = _membership(agent, tenant)
    _client_for(manager).post(
        "/admin/supportai/membership/",
        {"action": "delete_selected", "_selected_action": [agents.pk], "post": "yes"},
    )
    assert not Membership.objects.filter(pk=agents.pk).exists()


def test_admin_owner_promotes_and_admin_changes_agents(owner: User, manager: User, agent: User, tenant: Tenant) -> None:
    agents = _membership(agent, tenant)
    _client_for(manager).post(f"/admin/supportai/membership/{agents.pk}/change/", {"role": Role.ANALYST})
    agents.refresh_from_db()
    assert agents.role == Role.ANALYST
    admins = _membership(manager, tenant)
    _client_for(owner).post(f"/admin/supportai/membership/{admins.pk}/change/", {"role": Role.OWNER})
    admins.refresh_from_db()
    assert admins.role == Role.OWNER


def test_admin_owner_of_other_tenant_cannot_touch_this_tenant(
    outsider: User, owner: User, agent: User, tenant: Tenant
) -> None:
    # given
    theirs = _membership(agent, tenant)
    client = _client_for(outsider)
    # when
    change = client.post(f"/admin/supportai/membership/{theirs.pk}/change/", {"role": Role.OWNER})
    delete = client.post(f"/admin/supportai/membership/{theirs.pk}/delete/", {"post": "yes"})
    bulk = client.post(
        "/admin/supportai/membership/", {"action": "delete_selected", "_selected_action": [theirs.pk], "post": "yes"}
    )
    add = client.post("/admin/supportai/membership/add/", {"user": outsider.pk, "tenant": tenant.pk, "role": "owner"})
    # then: the row is invisible, the tenant is not a choice, and nothing changed
    assert change.status_code == delete.status_code == 302
    assert bulk.status_code in (200, 302)
    assert "Select a valid choice" in add.text
    theirs.refresh_from_db()
    assert theirs.role == Role.AGENT
    assert not Membership.objects.filter(user=outsider, tenant=tenant).exists()
