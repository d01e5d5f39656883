"""Several field-encryption keys: the first encrypts, all decrypt, a rotation command, and a tenant
whose stored secret no configured key opens keeps working everywhere that secret is not needed."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from datetime import timedelta

import pytest
from cryptography.fernet import Fernet
from django.contrib.auth.models import User
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from escalations.models import EscalationPolicy
from escalations.selectors import policy_for
from supportai.api_keys import api_key_authenticate, api_key_create
from supportai.crypto import DecryptionError
from supportai.devserver import ROOT
from supportai.env import env_fernet_keys
from supportai.identity import (
    IdentityError,
    IdentityRejection,
    identity_secret_rotate,
    sign_identity,
    verify_identity,
)
from supportai.models import Tenant
from supportai.selectors import tenant_get_by_public_key
from supportai.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

OLD, NEW, LOST = (Fernet.generate_key().decode() for _ in range(3))
HOUR = timedelta(hours=1)


def _stored(table: str, column: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])
        token: str = cursor.fetchone()[0]
    return token


def _identity_token(tenant: Tenant) -> str:
    return _stored("supportai_tenant", "identity_secret", tenant.pk)


def test_values_written_under_the_old_key_read_after_a_new_key_is_put_first(settings, tenant: Tenant) -> None:
    settings.FIELD_ENCRYPTION_KEYS = [OLD]
    secret = identity_secret_rotate(tenant=tenant)
    settings.FIELD_ENCRYPTION_KEYS = [NEW, OLD]
    assert Tenant.objects.get(pk=tenant.pk).identity_secret == secret
    newer = identity_secret_rotate(tenant=Tenant.objects.get(pk=tenant.pk))
    assert Fernet(NEW.encode()).decrypt(_identity_token(tenant).encode()).decode() == newer


def test_an_undecryptable_secret_does_not_take_its_tenant_down(settings, tenant: Tenant, other_tenant: Tenant) -> None:
    settings.FIELD_ENCRYPTION_KEYS = [LOST]
    identity_secret_rotate(tenant=tenant)
    EscalationPolicy.objects.create(tenant=tenant, team_name="care team", webhook_secret="s3cret")
    issued = api_key_create(tenant=tenant, name="ci")
    settings.FIELD_ENCRYPTION_KEYS = [NEW]
    other_secret = identity_secret_rotate(tenant=other_tenant)  # another tenant, under the current key

    authenticated = api_key_authenticate(issued.raw_key)
    assert authenticated is not None and authenticated.tenant == tenant
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.raw_key}")
    response = client.get("/api/v1/tenant/")
    assert response.status_code == 200 and response.json()["slug"] == "alpha"
    loaded = tenant_get_by_public_key(public_key=tenant.public_key)
    assert loaded is not None and loaded == tenant
    assert policy_for(tenant=tenant).team_name == "care team"

    with pytest.raises(DecryptionError, match=rf"supportai\.Tenant\.identity_secret of row {tenant.pk} cannot be"):
        _ = loaded.identity_secret
    with pytest.raises(DecryptionError, match=r"escalations\.EscalationPolicy\.webhook_secret"):
        _ = policy_for(tenant=tenant).webhook_secret
    assert Tenant.objects.get(pk=other_tenant.pk).identity_secret == other_secret


def test_saving_a_row_keeps_a_secret_it_could_not_decrypt(settings, tenant: Tenant) -> None:
    settings.FIELD_ENCRYPTION_KEYS = [LOST]
    secret = identity_secret_rotate(tenant=tenant)
    token = _identity_token(tenant)
    settings.FIELD_ENCRYPTION_KEYS = [NEW]
    loaded = Tenant.objects.get(pk=tenant.pk)
    loaded.name = "Alpha Clinic (renamed)"
    loaded.save()
    assert _identity_token(tenant) == token
    settings.FIELD_ENCRYPTION_KEYS = [NEW, LOST]
    assert Tenant.objects.get(pk=tenant.pk).identity_secret == secret


def test_identity_verification_says_unavailable_and_a_new_secret_fixes_it(
    settings, tenant: Tenant, other_tenant: Tenant, caplog
) -> None:
    settings.FIELD_ENCRYPTION_KEYS = [LOST]
    lost = identity_secret_rotate(tenant=tenant)
    settings.FIELD_ENCRYPTION_KEYS = [NEW]
    other_secret = identity_secret_rotate(tenant=other_tenant)
    token = sign_identity(secret=lost, external_id="c-1", lifetime=HOUR)
    with caplog.at_level(logging.ERROR, logger="supportai.identity"), pytest.raises(IdentityError) as refused:
        verify_identity(tenant=tenant, token=token)
    assert refused.value.rejection is IdentityRejection.UNAVAILABLE
    assert f"tenant {tenant.pk} is unavailable" in caplog.text
    # another tenant's secret never verifies this tenant's customers, nor the other way round
    other_token = sign_identity(secret=other_secret, external_id="c-2", lifetime=HOUR)
    assert verify_identity(tenant=other_tenant, token=other_token).external_id == "c-2"

    fresh = identity_secret_rotate(tenant=Tenant.objects.get(pk=tenant.pk))
    again = sign_identity(secret=fresh, external_id="c-1", lifetime=HOUR)
    assert verify_identity(tenant=tenant, token=again).external_id == "c-1"
    with pytest.raises(IdentityError):
        verify_identity(tenant=tenant, token=other_token)


def test_rotation_command_reencrypts_every_secret_with_the_first_key(
    settings, tenant: Tenant, other_tenant: Tenant
) -> None:
    settings.FIELD_ENCRYPTION_KEYS = [OLD]
    secrets = {t.pk: identity_secret_rotate(tenant=t) for t in (tenant, other_tenant)}
    EscalationPolicy.objects.create(tenant=other_tenant, slack_webhook_url="https://hooks.slack.com/services/T/B/x")
    settings.FIELD_ENCRYPTION_KEYS = [NEW, OLD]
    call_command("rotate_field_encryption_key")

    settings.FIELD_ENCRYPTION_KEYS = [NEW]
    for pk, secret in secrets.items():
        assert Tenant.objects.get(pk=pk).identity_secret == secret
    policy = EscalationPolicy.objects.get(tenant=other_tenant)
    assert policy.slack_webhook_url == "https://hooks.slack.com/services/T/B/x"


def test_rotation_command_names_values_no_key_opens_and_rotates_the_rest(
    settings, tenant: Tenant, other_tenant: Tenant
) -> None:
    settings.FIELD_ENCRYPTION_KEYS = [LOST]
    identity_secret_rotate(tenant=tenant)
    settings.FIELD_ENCRYPTION_KEYS = [OLD]
    kept = identity_secret_rotate(tenant=other_tenant)
    settings.FIELD_ENCRYPTION_KEYS = [NEW, OLD]
    with pytest.raises(
        CommandError, match=rf"(?s)1 value\(s\) open with no key.*supportai\.Tenant\.identity_secret pk={tenant.pk}$"
    ):
        call_command("rotate_field_encryption_key")
    settings.FIELD_ENCRYPTION_KEYS = [NEW]
    assert Tenant.objects.get(pk=other_tenant.pk).identity_secret == kept


def test_encryption_keys_setting_names_the_bad_key_without_printing_it() -> None:
    good = Fernet.generate_key().decode()
    assert env_fernet_keys("FIELD_ENCRYPTION_KEYS", environ={"FIELD_ENCRYPTION_KEYS": f"{good}, {OLD}"}) == [good, OLD]
    with pytest.raises(ImproperlyConfigured, match=r"FIELD_ENCRYPTION_KEYS \(key 2\) must decode to 32 bytes") as bad:
        env_fernet_keys("FIELD_ENCRYPTION_KEYS", environ={"FIELD_ENCRYPTION_KEYS": f"{good},c2hvcnQ="})
    assert good not in str(bad.value)


def test_admin_pages_of_a_tenant_with_an_undecryptable_secret_open(settings, tenant: Tenant, owner: User) -> None:
    settings.FIELD_ENCRYPTION_KEYS = [LOST]
    identity_secret_rotate(tenant=tenant)
    policy = EscalationPolicy.objects.create(tenant=tenant, team_name="care team", webhook_secret="s3cret")
    settings.FIELD_ENCRYPTION_KEYS = [NEW]
    root = UserFactory.create(username="root", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(root)
    assert client.get(f"/admin/supportai/tenant/{tenant.pk}/change/").status_code == 200
    assert client.get(f"/admin/escalations/escalationpolicy/{policy.pk}/change/").status_code == 200
    client.force_login(owner)
    assert client.get("/console/").status_code == 200


@pytest.mark.slow
def test_field_encryption_key_is_one_more_decrypting_key_after_the_list() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIELD_ENCRYPTION_KEY")}
    env.update(DEBUG="1", FIELD_ENCRYPTION_KEYS=f"{NEW},{OLD}", FIELD_ENCRYPTION_KEY=LOST)
    script = "import supportai.settings as s; print(','.join(s.FIELD_ENCRYPTION_KEYS))"
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=True
    )
    assert result.stdout.strip() == f"{NEW},{OLD},{LOST}"
    env["FIELD_ENCRYPTION_KEY"] = OLD  # already listed: not repeated
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=True
    )
    assert result.stdout.strip() == f"{NEW},{OLD}"
