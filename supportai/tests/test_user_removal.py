"""A tenant's last active owner can be neither deleted nor deactivated, by any path that goes through the ORM.

Deleting the user (``Model.delete()``, ``QuerySet.delete()``, the User admin's delete page and bulk
action) or deactivating them (``save()``, the User admin's form) is refused with a message naming
the user and the tenant; an owner whose user is inactive does not count as an owner. A refusal
raised inside ``delete()`` breaks the surrounding transaction (as any error there does), so the
tests that go on afterwards wrap the refused call in ``transaction.atomic()``.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.db import transaction
from django.test import Client

from supportai.memberships import (
    MembershipRefusal,
    MembershipRefused,
    membership_change_role,
    membership_delete,
)
from supportai.models import Membership, Role, Tenant
from supportai.tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

ALICE_LAST_OWNER = "alice is the last owner of tenant Alpha Clinic; make someone else an owner of it first."


@pytest.fixture
def root() -> User:
    user: User = UserFactory.create(username="root", is_staff=True, is_superuser=True)
    return user


@pytest.fixture
def co_owner(tenant: Tenant) -> User:
    """A second owner of ``tenant``."""
    user: User = UserFactory.create(username="dave", is_staff=True)
    MembershipFactory.create(user=user, tenant=tenant, role=Role.OWNER)
    return user


def _client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _messages(response: object) -> list[str]:
    return [m.message for m in response.context["messages"]]  # type: ignore[attr-defined]


# --- the ORM: delete ----------------------------------------------------------------------------


def test_user_delete_refused_for_last_owner_of_one_tenant_and_agent_of_another(
    owner: User, outsider: User, tenant: Tenant, other_tenant: Tenant
) -> None:
    # given: alice owns Alpha alone and is an agent of Bravo (owned by charlie)
    MembershipFactory.create(user=owner, tenant=other_tenant, role=Role.AGENT)
    # when / then
    with pytest.raises(MembershipRefused) as refused, transaction.atomic():
        owner.delete()
    assert refused.value.refusal is MembershipRefusal.LAST_OWNER_LEAVING
    assert str(refused.value) == ALICE_LAST_OWNER
    assert Membership.objects.filter(user=owner).count() == 2
    # when alice hands Alpha over to bob, she can go, and her Bravo membership with her
    bob = UserFactory.create(username="bob")
    handed = MembershipFactory.create(user=bob, tenant=tenant, role=Role.AGENT)
    membership_change_role(actor=owner, tenant=tenant, membership_id=handed.pk, role=Role.OWNER)
    owner.delete()
    assert not User.objects.filter(username="alice").exists()
    assert list(Membership.objects.filter(tenant=other_tenant).values_list("user__username", flat=True)) == ["charlie"]


def test_user_delete_of_an_owner_of_other_tenant_only_as_agent_is_allowed(
    owner: User, outsider: User, tenant: Tenant
) -> None:
    # charlie owns Bravo alone but is only an agent here: deleting charlie is refused for Bravo, not Alpha
    MembershipFactory.create(user=outsider, tenant=tenant, role=Role.AGENT)
    with pytest.raises(MembershipRefused, match="charlie is the last owner of tenant Bravo Spa"), transaction.atomic():
        outsider.delete()
    # an agent of Alpha who owns nothing goes freely
    bob = UserFactory.create(username="bob")
    MembershipFactory.create(user=bob, tenant=tenant, role=Role.AGENT)
    bob.delete()
    assert not Membership.objects.filter(user__username="bob").exists()


def test_user_queryset_delete_of_every_owner_deletes_no_one(owner: User, co_owner: User, agent: User) -> None:
    # when: both owners in one QuerySet.delete() (each alone would leave the other)
    with pytest.raises(MembershipRefused) as refused, transaction.atomic():
        User.objects.filter(username__in=["alice", "bob", "dave"]).delete()
    # then
    assert refused.value.refusal is MembershipRefusal.LAST_OWNER_LEAVING
    assert set(User.objects.values_list("username", flat=True)) == {"alice", "bob", "dave"}
    # one owner of two may go
    User.objects.filter(username__in=["bob", "dave"]).delete()
    assert list(User.objects.values_list("username", flat=True)) == ["alice"]


def test_tenant_delete_takes_the_last_owners_membership(owner: User, tenant: Tenant) -> None:
    tenant.delete()
    assert User.objects.filter(pk=owner.pk).exists()
    assert not Membership.objects.filter(user=owner).exists()


# --- the ORM: deactivate ------------------------------------------------------------------------


def test_user_deactivation_refused_for_the_last_owner(owner: User, co_owner: User, tenant: Tenant) -> None:
    # given: dave, the other owner, is deactivated first: allowed, alice remains
    co_owner.is_active = False
    co_owner.save()
    # when / then: alice is now the last active owner
    owner.is_active = False
    with pytest.raises(MembershipRefused, match=ALICE_LAST_OWNER), transaction.atomic():
        owner.save()
    owner.refresh_from_db()
    assert owner.is_active
    # saving an already inactive user is not a deactivation
    co_owner.first_name = "Dave"
    co_owner.save()


def test_inactive_owner_does_not_count_as_an_owner(owner: User, co_owner: User, tenant: Tenant) -> None:
    # given: dave is an owner but cannot log in
    User.objects.filter(pk=co_owner.pk).update(is_active=False)
    alices = Membership.objects.get(user=owner, tenant=tenant)
    # when / then: alice can neither step down, nor be removed, nor deleted
    with pytest.raises(MembershipRefused) as refused, transaction.atomic():
        membership_change_role(actor=owner, tenant=tenant, membership_id=alices.pk, role=Role.ADMIN)
    assert refused.value.refusal is MembershipRefusal.LAST_OWNER
    with pytest.raises(MembershipRefused, match="at least one active owner"), transaction.atomic():
        membership_delete(actor=None, tenant=tenant, membership_id=alices.pk)
    with pytest.raises(MembershipRefused, match=ALICE_LAST_OWNER), transaction.atomic():
        owner.delete()
    alices.refresh_from_db()
    assert alices.role == Role.OWNER


# --- the User admin -----------------------------------------------------------------------------


def test_admin_user_delete_page_refuses_the_last_owner(root: User, owner: User, tenant: Tenant) -> None:
    client = _client_for(root)
    page = client.get(f"/admin/auth/user/{owner.pk}/delete/", follow=True)
    post = client.post(f"/admin/auth/user/{owner.pk}/delete/", {"post": "yes"}, follow=True)
    for response in (page, post):
        assert response.redirect_chain[-1][0] == f"/admin/auth/user/{owner.pk}/change/"
        assert ALICE_LAST_OWNER in _messages(response)
    assert User.objects.filter(pk=owner.pk).exists()


def test_admin_user_bulk_delete_with_the_last_owner_deletes_no_one(
    root: User, owner: User, agent: User, outsider: User, tenant: Tenant, other_tenant: Tenant
) -> None:
    # given: bob is an agent here and an owner of Bravo next to charlie
    MembershipFactory.create(user=agent, tenant=other_tenant, role=Role.OWNER)
    selected = [owner.pk, agent.pk]
    client = _client_for(root)
    # when: the confirmation page, then the confirmed delete
    for data in ({}, {"post": "yes"}):
        response = client.post(
            "/admin/auth/user/", {"action": "delete_selected", "_selected_action": selected, **data}, follow=True
        )
        # then
        assert ALICE_LAST_OWNER in _messages(response)
    assert User.objects.filter(pk__in=selected).count() == 2


def test_admin_user_bulk_delete_of_both_owners_is_refused_and_of_one_works(
    root: User, owner: User, co_owner: User, tenant: Tenant
) -> None:
    client = _client_for(root)
    both = client.post(
        "/admin/auth/user/",
        {"action": "delete_selected", "_selected_action": [owner.pk, co_owner.pk], "post": "yes"},
        follow=True,
    )
    assert ALICE_LAST_OWNER in _messages(both)
    assert User.objects.filter(pk__in=[owner.pk, co_owner.pk]).count() == 2
    client.post("/admin/auth/user/", {"action": "delete_selected", "_selected_action": [co_owner.pk], "post": "yes"})
    assert not User.objects.filter(pk=co_owner.pk).exists()
    assert Membership.objects.get(tenant=tenant, role=Role.OWNER).user == owner


def _change_form(user: User, **changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "username": user.username,
        "email": user.email,
        "is_active": "on",
        "is_staff": "on",
        "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
        "initial-date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
        "initial-date_joined_1": user.date_joined.strftime("%H:%M:%S"),
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def test_admin_user_change_refuses_deactivating_the_last_owner(
    root: User, owner: User, co_owner: User, tenant: Tenant
) -> None:
    client = _client_for(root)
    # when: dave is deactivated (alice remains), then alice
    dave = client.post(f"/admin/auth/user/{co_owner.pk}/change/", _change_form(co_owner, is_active=None))
    alice = client.post(f"/admin/auth/user/{owner.pk}/change/", _change_form(owner, is_active=None))
    # then
    assert dave.status_code == 302
    assert alice.status_code == 200
    assert ALICE_LAST_OWNER in alice.text
    assert list(User.objects.filter(is_active=True).order_by("username").values_list("username", flat=True)) == [
        "alice",
        "root",
    ]


def _deactivate_selected(client: Client, *users: User) -> list[str]:
    response = client.post(
        "/admin/auth/user/",
        {"action": "deactivate_selected", "_selected_action": [user.pk for user in users]},
        follow=True,
    )
    return _messages(response) if response.status_code == 200 else []


def _active_usernames() -> list[str]:
    return list(User.objects.filter(is_active=True).order_by("username").values_list("username", flat=True))


def test_admin_user_bulk_deactivate_of_both_owners_is_refused_and_of_one_works(
    root: User, owner: User, co_owner: User, agent: User, tenant: Tenant
) -> None:
    client = _client_for(root)
    # when: alice and dave, the two owners, together
    refused = _deactivate_selected(client, owner, co_owner, agent)
    # then: nobody is deactivated, and the message names one of them
    assert refused == [ALICE_LAST_OWNER]
    assert _active_usernames() == ["alice", "bob", "dave", "root"]
    # when: dave and bob only
    done = _deactivate_selected(client, co_owner, agent)
    # then
    assert done == ["Deactivated 2 user(s)."]
    assert _active_usernames() == ["alice", "root"]


def test_admin_user_bulk_deactivate_is_for_superusers_only(outsider: User, agent: User, tenant: Tenant) -> None:
    # charlie, owner of Bravo and staff, holds no permission on users
    response = _client_for(outsider).post(
        "/admin/auth/user/", {"action": "deactivate_selected", "_selected_action": [agent.pk]}
    )
    assert response.status_code == 403
    assert User.objects.get(pk=agent.pk).is_active
