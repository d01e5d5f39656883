"""dumpdata / loaddata (a database move) keep every encrypted secret, including one no configured key
opens: it travels as its stored token, never as a placeholder that would become the secret."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.core.serializers.base import DeserializationError
from django.db import connection

from escalations.models import EscalationPolicy
from supportai.crypto import Ciphertext, DecryptionError, encrypt_text
from supportai.identity import IdentityError, IdentityRejection, identity_secret_rotate, sign_identity, verify_identity
from supportai.models import Tenant

pytestmark = pytest.mark.django_db

NEW, LOST = (Fernet.generate_key().decode() for _ in range(2))
HOUR = timedelta(hours=1)
PLACEHOLDER = "Ciphertext()"  # what dumps held for such a secret before: public, so never a secret


def _stored(table: str, column: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])
        token: str = cursor.fetchone()[0]
    return token


def _dump(path: Path) -> list[dict[str, object]]:
    call_command("dumpdata", "supportai.Tenant", "escalations.EscalationPolicy", output=str(path), verbosity=0)
    rows: list[dict[str, object]] = json.loads(path.read_text())
    return rows


def _fields(rows: list[dict[str, object]], model: str, pk: int) -> dict[str, object]:
    row = next(r for r in rows if r["model"] == model and r["pk"] == pk)
    fields: dict[str, object] = row["fields"]  # type: ignore[assignment]
    return fields


def test_dump_and_load_keep_a_secret_no_configured_key_opens(
    settings, tmp_path: Path, tenant: Tenant, other_tenant: Tenant
) -> None:
    # given: alpha's secrets were written under a key this deployment lacks, bravo's under the current one
    settings.FIELD_ENCRYPTION_KEYS = [LOST]
    lost_secret = identity_secret_rotate(tenant=tenant)
    policy = EscalationPolicy.objects.create(tenant=tenant, team_name="care", webhook_secret="alpha-hook-secret")
    lost_token = _stored("supportai_tenant", "identity_secret", tenant.pk)
    lost_hook_token = _stored("escalations_escalationpolicy", "webhook_secret", policy.pk)
    settings.FIELD_ENCRYPTION_KEYS = [NEW]
    other_secret = identity_secret_rotate(tenant=other_tenant)

    # when: the database is dumped and loaded back
    dump = tmp_path / "dump.json"
    rows = _dump(dump)
    call_command("loaddata", str(dump), verbosity=0)

    # then: the dump carries alpha's stored tokens, and loading writes them back unchanged
    assert PLACEHOLDER not in dump.read_text()
    assert _fields(rows, "supportai.tenant", tenant.pk)["identity_secret"] == {"fernet": lost_token}
    assert _stored("supportai_tenant", "identity_secret", tenant.pk) == lost_token
    assert _stored("escalations_escalationpolicy", "webhook_secret", policy.pk) == lost_hook_token
    with pytest.raises(IdentityError) as refused:
        verify_identity(tenant=tenant, token=sign_identity(secret=PLACEHOLDER, external_id="x", lifetime=HOUR))
    assert refused.value.rejection is IdentityRejection.UNAVAILABLE
    # bravo keeps its own secret, which verifies bravo's customers and never alpha's
    bravo_token = sign_identity(secret=other_secret, external_id="b-1", lifetime=HOUR)
    assert Tenant.objects.get(pk=other_tenant.pk).identity_secret == other_secret
    assert verify_identity(tenant=other_tenant, token=bravo_token).external_id == "b-1"
    with pytest.raises(IdentityError):
        verify_identity(tenant=tenant, token=bravo_token)

    # and once the lost key is configured again, alpha's secrets open as they were
    settings.FIELD_ENCRYPTION_KEYS = [NEW, LOST]
    assert Tenant.objects.get(pk=tenant.pk).identity_secret == lost_secret
    assert EscalationPolicy.objects.get(pk=policy.pk).webhook_secret == "alpha-hook-secret"
    alpha_token = sign_identity(secret=lost_secret, external_id="a-1", lifetime=HOUR)
    assert verify_identity(tenant=tenant, token=alpha_token).external_id == "a-1"


@pytest.mark.parametrize(
    "value",
    [PLACEHOLDER, {"fernet": 5}, {"fernet": "not a fernet token"}, {"fernet": "x", "more": "y"}, ["x"]],
)
def test_loading_a_dump_refuses_a_value_that_is_no_secret(
    settings, tmp_path: Path, tenant: Tenant, other_tenant: Tenant, value: object
) -> None:
    settings.FIELD_ENCRYPTION_KEYS = [NEW]
    identity_secret_rotate(tenant=tenant)
    kept = identity_secret_rotate(tenant=other_tenant)
    stored = _stored("supportai_tenant", "identity_secret", tenant.pk)
    dump = tmp_path / "dump.json"
    rows = _dump(dump)
    for row in rows:
        if row["model"] == "supportai.tenant" and row["pk"] == tenant.pk:
            row["fields"]["identity_secret"] = value  # type: ignore[index]
    dump.write_text(json.dumps(rows))

    with pytest.raises(DeserializationError, match=rf"supportai\.tenant:pk={tenant.pk}"):
        call_command("loaddata", str(dump), verbosity=0)

    assert _stored("supportai_tenant", "identity_secret", tenant.pk) == stored
    assert Tenant.objects.get(pk=other_tenant.pk).identity_secret == kept


def test_a_ciphertext_has_no_text_form_to_be_used_as_a_key() -> None:
    with pytest.raises(DecryptionError):
        str(Ciphertext("gAAAA-token"))
    assert "gAAAA-token" not in repr(Ciphertext("gAAAA-token"))


def _store_identity_secrets(tenant: Tenant, current: str, previous: str = "") -> None:
    """What loading an older dump left behind: the placeholder stored (encrypted) as the secret."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE supportai_tenant SET identity_secret = %s, identity_secret_previous = %s WHERE id = %s",
            [encrypt_text(current), encrypt_text(previous) if previous else "", tenant.pk],
        )


def test_a_placeholder_stored_as_the_identity_secret_never_verifies(
    tenant: Tenant, other_tenant: Tenant, caplog
) -> None:
    other_secret = identity_secret_rotate(tenant=other_tenant)
    _store_identity_secrets(tenant, PLACEHOLDER)
    forged = sign_identity(secret=PLACEHOLDER, external_id="victim", lifetime=HOUR)

    with caplog.at_level("ERROR", logger="supportai.identity"), pytest.raises(IdentityError) as refused:
        verify_identity(tenant=tenant, token=forged)

    assert refused.value.rejection is IdentityRejection.UNAVAILABLE
    assert f"tenant {tenant.pk}" in caplog.text and "identity_secret" in caplog.text
    assert PLACEHOLDER not in caplog.text
    # the other tenant's secret neither verifies here nor stops working for its own customers
    bravo_token = sign_identity(secret=other_secret, external_id="b-1", lifetime=HOUR)
    with pytest.raises(IdentityError):
        verify_identity(tenant=tenant, token=bravo_token)
    assert verify_identity(tenant=other_tenant, token=bravo_token).external_id == "b-1"


def test_rotating_away_from_a_placeholder_does_not_keep_it_as_the_previous_secret(tenant: Tenant) -> None:
    _store_identity_secrets(tenant, PLACEHOLDER)
    forged = sign_identity(secret=PLACEHOLDER, external_id="victim", lifetime=HOUR)

    fresh = identity_secret_rotate(tenant=Tenant.objects.get(pk=tenant.pk))

    assert Tenant.objects.get(pk=tenant.pk).identity_secret_previous == ""
    with pytest.raises(IdentityError) as refused:
        verify_identity(tenant=tenant, token=forged)
    assert refused.value.rejection is IdentityRejection.INVALID
    assert verify_identity(tenant=tenant, token=sign_identity(secret=fresh, external_id="c-1", lifetime=HOUR))


def test_a_placeholder_left_as_the_previous_secret_never_verifies(tenant: Tenant) -> None:
    current = identity_secret_rotate(tenant=tenant)
    _store_identity_secrets(tenant, current, previous=PLACEHOLDER)
    forged = sign_identity(secret=PLACEHOLDER, external_id="victim", lifetime=HOUR)

    with pytest.raises(IdentityError) as refused:
        verify_identity(tenant=tenant, token=forged)

    assert refused.value.rejection is IdentityRejection.INVALID
    ok = sign_identity(secret=current, external_id="c-1", lifetime=HOUR)
    assert verify_identity(tenant=tenant, token=ok).external_id == "c-1"
