"""Identity verification for returning customers (see docs/identity-verification.md).

The tenant's own server signs a JSON Web Token (HS256) for its logged-in customer with the tenant's
identity secret; the widget passes it on (``identify {token}``). We accept a token only when its
signature checks out against the current (or, after a rotation, the previous) secret, it has not
expired, it is not valid for longer than ``MAX_TOKEN_LIFETIME``, and it names the customer (``sub``).
Anything else is an unverified claim and is ignored: the visitor stays anonymous. A stored secret we
cannot have issued (shorter than ours, such as the public "Ciphertext()" older dumps put in) never
verifies anything.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

import jwt
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from supportai.crypto import DecryptionError
from supportai.models import EndUser, Tenant

ALGORITHM = "HS256"
SECRET_BYTES = 32
ISSUED_SECRET_CHARS = len(secrets.token_urlsafe(SECRET_BYTES))
MAX_TOKEN_LIFETIME = timedelta(days=1)
CLOCK_LEEWAY = timedelta(seconds=60)
MAX_TOKEN_CHARS = 4_096
MAX_SUBJECT_CHARS = 255

logger = logging.getLogger(__name__)


class IdentityRejection(StrEnum):
    NOT_CONFIGURED = "This assistant does not verify customer identities."
    INVALID = "The identity token could not be verified."
    EXPIRED = "The identity token has expired; sign a fresh one."
    TOO_LONG_LIVED = "Identity tokens may be valid for at most 24 hours."
    UNAVAILABLE = "Identity verification is unavailable right now; the visitor stays anonymous."


class IdentityError(Exception):
    def __init__(self, rejection: IdentityRejection) -> None:
        super().__init__(rejection.value)
        self.rejection = rejection


@dataclass(frozen=True)
class VerifiedIdentity:
    external_id: str
    email: str = ""
    name: str = ""


def identity_secret_rotate(*, tenant: Tenant) -> str:
    """Issue a new identity secret (returned once); the old one keeps verifying until the next rotation."""
    secret = secrets.token_urlsafe(SECRET_BYTES)
    try:
        current = tenant.identity_secret
    except DecryptionError:  # written under a key no longer configured: nothing left to keep valid
        current = ""
    tenant.identity_secret_previous = current if _issued(current) else ""
    tenant.identity_secret = secret
    tenant.identity_secret_rotated_at = timezone.now()
    tenant.save(update_fields=["identity_secret", "identity_secret_previous", "identity_secret_rotated_at"])
    return secret


def sign_identity(*, secret: str, external_id: str, email: str = "", name: str = "", lifetime: timedelta) -> str:
    """What a tenant's server does (our tests and docs use it): a signed token for one customer."""
    now = timezone.now()
    claims: dict[str, object] = {"sub": external_id, "iat": now, "exp": now + lifetime}
    if email:
        claims["email"] = email
    if name:
        claims["name"] = name
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def _issued(secret: str) -> bool:
    """Whether a stored secret can be one ``identity_secret_rotate`` issued (and so is no public string)."""
    return len(secret) >= ISSUED_SECRET_CHARS


def _clean_email(value: object) -> str:
    if not isinstance(value, str):
        return ""
    try:
        validate_email(value)
    except ValidationError:
        return ""
    return value[:254]


def _decode(token: str, secret: str) -> dict[str, object]:
    return jwt.decode(
        token,
        secret,
        algorithms=[ALGORITHM],
        leeway=CLOCK_LEEWAY,
        options={"require": ["sub", "exp"], "verify_signature": True},
    )


def verify_identity(*, tenant: Tenant, token: str) -> VerifiedIdentity:
    """The customer a token proves, or ``IdentityError`` saying why it proves nothing."""
    # Read the secrets fresh: a long-lived socket must see a rotation made after it connected.
    fresh = Tenant.objects.only("identity_secret", "identity_secret_previous").filter(pk=tenant.pk).first()
    try:
        stored = [s for s in (fresh.identity_secret, fresh.identity_secret_previous) if s] if fresh else []
    except DecryptionError as exc:
        logger.error("identity verification for tenant %s is unavailable: %s", tenant.pk, exc)
        raise IdentityError(IdentityRejection.UNAVAILABLE) from exc
    if not stored:
        raise IdentityError(IdentityRejection.NOT_CONFIGURED)
    candidates = [s for s in stored if _issued(s)]
    if len(candidates) < len(stored):
        logger.error(
            "tenant %s holds an identity_secret we did not issue (an older dump's placeholder?); it verifies "
            "nothing: issue a new one with manage.py identity_secret",
            tenant.pk,
        )
    if not candidates:
        raise IdentityError(IdentityRejection.UNAVAILABLE)
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_CHARS:
        raise IdentityError(IdentityRejection.INVALID)
    claims: dict[str, object] | None = None
    for secret in candidates:
        try:
            claims = _decode(token, secret)
            break
        except jwt.ExpiredSignatureError as exc:
            raise IdentityError(IdentityRejection.EXPIRED) from exc
        except jwt.InvalidTokenError:
            continue
    if claims is None:
        raise IdentityError(IdentityRejection.INVALID)
    subject, expires = claims.get("sub"), claims.get("exp")
    if not isinstance(subject, str) or not subject.strip() or len(subject) > MAX_SUBJECT_CHARS:
        raise IdentityError(IdentityRejection.INVALID)
    if not isinstance(expires, int | float):
        raise IdentityError(IdentityRejection.INVALID)
    latest_allowed = timezone.now() + MAX_TOKEN_LIFETIME + CLOCK_LEEWAY
    if expires > latest_allowed.timestamp():
        raise IdentityError(IdentityRejection.TOO_LONG_LIVED)
    name = claims.get("name")
    return VerifiedIdentity(
        external_id=subject.strip(),
        email=_clean_email(claims.get("email")),
        name=name.strip()[:200] if isinstance(name, str) else "",
    )


def end_user_for_identity(*, tenant: Tenant, identity: VerifiedIdentity) -> EndUser:
    """The tenant's ``EndUser`` for a verified identity, created on first sight; verified details win."""
    defaults: dict[str, object] = {"last_seen_at": timezone.now()}
    if identity.email:
        defaults.update(email=identity.email, email_verified=True)
    if identity.name:
        defaults["full_name"] = identity.name
    try:
        with transaction.atomic():
            end_user, _ = EndUser.objects.for_tenant(tenant).update_or_create(
                tenant=tenant, external_id=identity.external_id, defaults=defaults
            )
    except IntegrityError:  # two sockets of the same customer raced to create it
        end_user = EndUser.objects.for_tenant(tenant).get(external_id=identity.external_id)
    return end_user
