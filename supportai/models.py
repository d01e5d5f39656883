"""Tenancy core: tenants, staff memberships with roles, end users, tenant API keys."""

from __future__ import annotations

import secrets
import zoneinfo
from decimal import Decimal
from typing import Any, Self, TypeVar

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models, transaction
from django.utils import timezone as django_timezone

from supportai.crypto import EncryptedTextField

PUBLIC_KEY_PREFIX = "pk_"


def generate_public_key() -> str:
    """Widget key: public by design (it sits in the page) but unguessable, so tenants can't be enumerated."""
    return PUBLIC_KEY_PREFIX + secrets.token_urlsafe(24)


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not an IANA time zone name (e.g. Europe/Paris)")


def validate_origin(value: str) -> None:
    from urllib.parse import urlsplit

    message = f"{value!r} is not an origin like https://www.example.com"
    try:
        parts = urlsplit(value)
    except ValueError:  # a bracketed host that is no IPv6 address
        raise ValidationError(message) from None
    if parts.scheme not in {"http", "https"} or not parts.hostname or parts.path not in {"", "/"} or parts.query:
        raise ValidationError(message)


hex_colour = RegexValidator(r"^#[0-9a-fA-F]{6}$", "Use a hex colour such as #0f766e")


class Tenant(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=64, unique=True)
    public_key = models.CharField(max_length=64, unique=True, default=generate_public_key, editable=False)
    allowed_origins = ArrayField(
        models.CharField(max_length=255, validators=[validate_origin]),
        default=list,
        blank=True,
        help_text="Origins allowed to embed the widget, e.g. https://www.example.com",
    )
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    locale = models.CharField(max_length=16, default="en")
    brand_colour = models.CharField(max_length=7, default="#0f766e", validators=[hex_colour])
    logo_url = models.URLField(blank=True)
    escalation_email = models.EmailField(blank=True)
    monthly_llm_budget_usd = models.DecimalField(
        max_digits=12, decimal_places=2, default=Decimal("50.00"), validators=[MinValueValidator(Decimal("0"))]
    )
    # Identity verification (docs/identity-verification.md): the tenant's site signs a short-lived
    # HS256 token for its logged-in customer with this secret; the previous secret stays valid after a
    # rotation so pages already served keep working until their tokens expire.
    identity_secret = EncryptedTextField(blank=True, editable=False)
    identity_secret_previous = EncryptedTextField(blank=True, editable=False)
    identity_secret_rotated_at = models.DateTimeField(null=True, blank=True, editable=False)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=django_timezone.now, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def normalized_origins(self) -> frozenset[str]:
        return frozenset(origin.rstrip("/").lower() for origin in self.allowed_origins)


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    AGENT = "agent", "Agent"
    ANALYST = "analyst", "Analyst"


# Roles that may change tenant configuration (knowledge, settings, keys) through admin and console.
MANAGER_ROLES = frozenset({Role.OWNER, Role.ADMIN})


def _may_take_ownership(changes: dict[str, Any]) -> bool:
    """Whether an ``update(**changes)`` may leave a tenant one owner short: it moves rows to another
    tenant or user, or sets the role to anything but owner (an expression included)."""
    moves = changes.keys() & {"tenant", "tenant_id", "user", "user_id"}
    return bool(moves) or changes.get("role", Role.OWNER) != Role.OWNER


class MembershipQuerySet(models.QuerySet["Membership"]):
    """Bulk writes keep every tenant's last active owner (``supportai.memberships``): a ``delete()``, or
    an ``update()`` of the role (to anything but owner), tenant or user, that would leave a tenant with
    no active owner is refused as a whole and changes nothing. Deleting a tenant or a user does not
    come here (their own rules apply)."""

    def delete(self) -> tuple[int, dict[str, int]]:
        with transaction.atomic():
            self._check_removal()
            return super().delete()

    def update(self, **kwargs: Any) -> int:
        if not _may_take_ownership(kwargs):
            return super().update(**kwargs)
        with transaction.atomic():
            self._check_removal()
            return super().update(**kwargs)

    def _check_removal(self) -> None:
        from supportai.memberships import check_memberships_removal  # the rule's module imports this one

        check_memberships_removal(self)


class Membership(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices)
    created_at = models.DateTimeField(default=django_timezone.now, editable=False)

    objects = models.Manager.from_queryset(MembershipQuerySet)()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "tenant"], name="membership_unique_user_tenant")]
        ordering = ["tenant__name"]

    def __str__(self) -> str:
        return f"{self.user} @ {self.tenant} ({self.role})"

    @property
    def can_manage(self) -> bool:
        return self.role in MANAGER_ROLES


_M = TypeVar("_M", bound=models.Model)


class TenantScopedQuerySet(models.QuerySet[_M]):
    def for_tenant(self, tenant: Tenant) -> Self:
        return self.filter(tenant=tenant)


class TenantScopedModel(models.Model):
    """Base for every row that belongs to one tenant. Reads go through ``for_tenant``."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")

    objects = models.Manager.from_queryset(TenantScopedQuerySet)()

    class Meta:
        abstract = True


class EndUser(TenantScopedModel):
    """A tenant's customer, known by the tenant's own id and/or verified contact details."""

    external_id = models.CharField(max_length=255, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=32, blank=True)
    full_name = models.CharField(max_length=200, blank=True)
    preferred_language = models.CharField(max_length=16, blank=True)
    email_verified = models.BooleanField(default=False)
    phone_verified = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=django_timezone.now, editable=False)
    last_seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "external_id"],
                condition=~models.Q(external_id=""),
                name="enduser_unique_external_id_per_tenant",
            )
        ]
        indexes = [models.Index(fields=["tenant", "email"])]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.full_name or self.email or self.external_id or f"End user {self.pk}"


class TenantApiKey(TenantScopedModel):
    """A REST API credential. Only a SHA-256 of the secret is stored; the key is shown once."""

    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    hashed_secret = models.CharField(max_length=64, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    created_at = models.DateTimeField(default=django_timezone.now, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "tenant API key"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
