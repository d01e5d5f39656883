"""Two owners of one tenant deactivated at once, each by a plain ``user.save()`` in autocommit mode.

The ``pre_save`` receiver checks "another active owner remains" under the tenant lock; that check
and the write that deactivates the user must be one transaction, or two such saves can each see
the other owner still active and both go through, leaving the tenant with no active owner.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.db.models.signals import pre_save

from supportai.memberships import MembershipRefused
from supportai.models import Membership, Role, Tenant
from supportai.tests.factories import MembershipFactory, TenantFactory, UserFactory

WAIT_S = 10


def _owner(tenant: Tenant, username: str) -> User:
    user: User = UserFactory.create(username=username, is_staff=True)
    MembershipFactory.create(user=user, tenant=tenant, role=Role.OWNER)
    return user


def _deactivate(user: User, errors: list[BaseException]) -> None:
    try:
        user.is_active = False
        user.save()
    except BaseException as exc:  # collected for the assertions
        errors.append(exc)
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)
def test_two_owners_deactivated_concurrently_leave_one_active_owner() -> None:
    tenant = TenantFactory.create(name="Alpha Clinic", slug="alpha-race")
    other = TenantFactory.create(name="Bravo Spa", slug="bravo-race")
    first, second = _owner(tenant, "alice"), _owner(tenant, "dave")
    bystander = _owner(other, "charlie")  # the other tenant's sole owner: untouched by either save
    first_checked, second_done = threading.Event(), threading.Event()

    def hold_first_after_its_check(sender: type[User], instance: User, **kwargs: Any) -> None:
        """Runs after the last-owner receiver: keep the first save from writing until the second is over."""
        if instance.pk == first.pk:
            first_checked.set()
            second_done.wait(WAIT_S)

    first_errors: list[BaseException] = []
    second_errors: list[BaseException] = []

    def second_after_first_checked() -> None:
        first_checked.wait(WAIT_S)
        try:
            _deactivate(second, second_errors)
        finally:
            second_done.set()

    pre_save.connect(hold_first_after_its_check, sender=User, dispatch_uid="test-hold-first")
    try:
        threads = [
            threading.Thread(target=_deactivate, args=(first, first_errors)),
            threading.Thread(target=second_after_first_checked),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(WAIT_S * 3)
    finally:
        pre_save.disconnect(dispatch_uid="test-hold-first", sender=User)

    assert not first_errors
    assert len(second_errors) == 1 and isinstance(second_errors[0], MembershipRefused)
    assert "dave is the last owner of tenant Alpha Clinic" in str(second_errors[0])
    active_owners = Membership.objects.filter(tenant=tenant, role=Role.OWNER, user__is_active=True)
    assert list(active_owners.values_list("user__username", flat=True)) == ["dave"]
    assert User.objects.get(pk=bystander.pk).is_active
