"""Identity verification: which tokens prove a customer, and how secrets are stored and rotated."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import timedelta

import jwt
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from supportai.identity import (
    ALGORITHM,
    IdentityError,
    IdentityRejection,
    VerifiedIdentity,
    end_user_for_identity,
    identity_secret_rotate,
    sign_identity,
    verify_identity,
)
from supportai.models import EndUser, Tenant

pytestmark = pytest.mark.django_db
HOUR = timedelta(hours=1)


def rejection(tenant: Tenant, token: str) -> IdentityRejection:
    with pytest.raises(IdentityError) as caught:
        verify_identity(tenant=tenant, token=token)
    return caught.value.rejection


def test_verify_identity_accepts_a_token_signed_with_the_tenant_secret(tenant: Tenant) -> None:
    secret = identity_secret_rotate(tenant=tenant)
    token = sign_identity(secret=secret, external_id="u-42", email="ann@example.org", name="Ann Lee", lifetime=HOUR)

    assert verify_identity(tenant=tenant, token=token) == VerifiedIdentity("u-42", "ann@example.org", "Ann Lee")


def test_verify_identity_refuses_tokens_when_the_tenant_has_no_secret(tenant: Tenant) -> None:
    token = sign_identity(secret="anything-" * 5, external_id="u-1", lifetime=HOUR)

    assert rejection(tenant, token) is IdentityRejection.NOT_CONFIGURED


def test_verify_identity_refuses_another_tenants_signature(tenant: Tenant, other_tenant: Tenant) -> None:
    identity_secret_rotate(tenant=tenant)
    foreign = sign_identity(secret=identity_secret_rotate(tenant=other_tenant), external_id="u-1", lifetime=HOUR)

    assert rejection(tenant, foreign) is IdentityRejection.INVALID


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(
            lambda secret: jwt.encode({"sub": "u-1", "exp": 9e9}, "wrong-secret-" * 4, algorithm=ALGORITHM),
            id="wrong-key",
        ),
        pytest.param(lambda secret: jwt.encode({"sub": "u-1", "exp": 9e9}, "", algorithm="none"), id="alg-none"),
        pytest.param(
            lambda secret: jwt.encode({"exp": timezone.now() + HOUR}, secret, algorithm=ALGORITHM), id="no-subject"
        ),
        pytest.param(lambda secret: jwt.encode({"sub": "u-1"}, secret, algorithm=ALGORITHM), id="no-expiry"),
        pytest.param(
            lambda secret: jwt.encode({"sub": "  ", "exp": timezone.now() + HOUR}, secret, algorithm=ALGORITHM),
            id="blank-subject",
        ),
        pytest.param(
            lambda secret: jwt.encode({"sub": 42, "exp": timezone.now() + HOUR}, secret, algorithm=ALGORITHM),
            id="numeric-subject",
        ),
        pytest.param(lambda secret: "not.a.token", id="garbage"),
        pytest.param(lambda secret: "x" * 5000, id="oversized"),
    ],
)
def test_verify_identity_refuses_forged_and_malformed_tokens(tenant: Tenant, forge: Callable[[str], str]) -> None:
    secret = identity_secret_rotate(tenant=tenant)

    assert rejection(tenant, forge(secret)) is IdentityRejection.INVALID


def test_verify_identity_refuses_expired_and_overly_long_lived_tokens(tenant: Tenant) -> None:
    secret = identity_secret_rotate(tenant=tenant)
    expired = sign_identity(secret=secret, external_id="u-1", lifetime=-timedelta(minutes=5))
    forever = sign_identity(secret=secret, external_id="u-1", lifetime=timedelta(days=30))

    assert rejection(tenant, expired) is IdentityRejection.EXPIRED
    assert rejection(tenant, forever) is IdentityRejection.TOO_LONG_LIVED


def test_rotation_keeps_the_previous_secret_valid_until_the_next_rotation(tenant: Tenant) -> None:
    first = identity_secret_rotate(tenant=tenant)
    old_token = sign_identity(secret=first, external_id="u-1", lifetime=HOUR)
    identity_secret_rotate(tenant=tenant)
    assert verify_identity(tenant=tenant, token=old_token).external_id == "u-1"

    identity_secret_rotate(tenant=tenant)

    assert rejection(tenant, old_token) is IdentityRejection.INVALID


def test_identity_secret_is_encrypted_at_rest(tenant: Tenant) -> None:
    secret = identity_secret_rotate(tenant=tenant)

    with connection.cursor() as cursor:
        cursor.execute("SELECT identity_secret FROM supportai_tenant WHERE id = %s", [tenant.pk])
        stored = cursor.fetchone()[0]
    assert stored and secret not in stored
    assert Tenant.objects.get(pk=tenant.pk).identity_secret == secret


def test_invalid_email_claim_is_dropped_not_trusted(tenant: Tenant) -> None:
    secret = identity_secret_rotate(tenant=tenant)
    token = sign_identity(secret=secret, external_id="u-7", email="not an email", lifetime=HOUR)

    assert verify_identity(tenant=tenant, token=token).email == ""


def test_end_user_for_identity_creates_once_and_updates_verified_details(tenant: Tenant, other_tenant: Tenant) -> None:
    first = end_user_for_identity(tenant=tenant, identity=VerifiedIdentity("u-9", "old@example.org", "Ann"))
    again = end_user_for_identity(tenant=tenant, identity=VerifiedIdentity("u-9", "new@example.org", ""))
    elsewhere = end_user_for_identity(tenant=other_tenant, identity=VerifiedIdentity("u-9"))

    assert again.pk == first.pk and again.email == "new@example.org" and again.email_verified
    assert again.full_name == "Ann"
    assert elsewhere.pk != first.pk and elsewhere.tenant_id == other_tenant.pk
    assert EndUser.objects.for_tenant(tenant).count() == 1


def test_identity_secret_command_rotates_and_prints_the_secret_once(tenant: Tenant) -> None:
    out = io.StringIO()

    call_command("identity_secret", "--tenant", tenant.slug, stdout=out)

    printed = out.getvalue().splitlines()[1]
    assert Tenant.objects.get(pk=tenant.pk).identity_secret == printed


def test_identity_secret_command_names_an_unknown_tenant() -> None:
    with pytest.raises(CommandError, match="No tenant with slug 'nope'"):
        call_command("identity_secret", "--tenant", "nope")
