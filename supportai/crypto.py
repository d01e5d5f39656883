"""Secrets at rest: Fernet encryption keyed by ``FIELD_ENCRYPTION_KEYS`` (or ``FIELD_ENCRYPTION_KEY``).

Use ``EncryptedTextField`` for any secret we must read back (identity-verification secrets, webhook
signing secrets, OAuth tokens). The database only ever holds the Fernet token. The first configured
key encrypts, every configured key decrypts (``MultiFernet``), so a key is rotated by putting the new
one first, running ``manage.py rotate_field_encryption_key`` and then dropping the old one (README).
Production refuses to start without a key (settings); development derives a stable key from
``SECRET_KEY`` so a fresh checkout works, and says so in the README.

A stored value no configured key opens does not break reading its row: the row loads (a tenant
keeps serving its API, widget, admin and console), and only reading that attribute raises
``DecryptionError``. Saving the row writes the stored token back unchanged, and ``dumpdata`` writes
it as ``{"fernet": "<token>"}``, which ``loaddata`` stores unchanged (a database move keeps it).
Such a value has no text form: it can never stand in for the secret.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.query_utils import DeferredAttribute

DUMP_KEY = "fernet"
NOT_A_DUMPED_TOKEN = 'An encrypted value in a dump is a string or {"fernet": "<stored Fernet token>"}.'
# What dumps held, before tokens were dumped, for a secret no key opened: public, so never a secret.
LOST_SECRET_PLACEHOLDER = "Ciphertext()"
_FERNET_VERSION = b"\x80"
_FERNET_OVERHEAD = 1 + 8 + 16 + 32  # version, timestamp, IV, HMAC around the AES blocks
PLACEHOLDER_IS_NO_SECRET = (
    f"{LOST_SECRET_PLACEHOLDER!r} stands for a secret an older dumpdata could not decrypt; the secret is not "
    'in the dump. Set the field to "" and issue a new secret, or dump again from the source database.'
)


class DecryptionError(Exception):
    """A stored value could not be decrypted with any key in ``FIELD_ENCRYPTION_KEYS``."""


@dataclass(frozen=True)
class Ciphertext:
    """A Fernet token as stored, written back as is: a value no configured key opens, or a rotated one."""

    token: str = field(repr=False)

    def __str__(self) -> str:
        raise DecryptionError("an undecryptable stored secret has no text form")


def field_keys() -> tuple[str, ...]:
    """The Fernet keys in use, the encrypting one first; in development one derived from ``SECRET_KEY``."""
    configured = tuple(settings.FIELD_ENCRYPTION_KEYS)
    if configured:
        return configured
    derived = hashlib.sha256(f"supportai-dev-field-key:{settings.SECRET_KEY}".encode()).digest()
    return (base64.urlsafe_b64encode(derived).decode(),)


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in keys])


def encrypt_text(plain: str) -> str:
    return _fernet(field_keys()).encrypt(plain.encode()).decode()


def decrypt_text(token: str) -> str:
    try:
        return _fernet(field_keys()).decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise DecryptionError("stored secret cannot be decrypted with any key in FIELD_ENCRYPTION_KEYS") from exc


class _EncryptedAttribute(DeferredAttribute):
    """Reading a value that no configured key opens raises ``DecryptionError`` naming the row.

    A data descriptor (it has ``__set__``), so reads come here even once the value is loaded. A row
    not yet added (one ``loaddata`` is saving) hands a dumped token on as the ``Ciphertext`` it is:
    raw saves read attributes directly, and a ``Ciphertext`` has no text form to misuse.
    """

    def __set__(self, instance: Any, value: Any) -> None:
        instance.__dict__[self.field.attname] = value

    def __get__(self, instance: Any, cls: Any = None) -> Any:
        value = super().__get__(instance, cls)
        if isinstance(value, Ciphertext) and not instance._state.adding:
            label = f"{instance._meta.label}.{self.field.name} of row {instance.pk}"
            raise DecryptionError(f"{label} cannot be decrypted with any key in FIELD_ENCRYPTION_KEYS")
        return value


class EncryptedTextField(models.TextField):
    """A text column whose value is encrypted before it reaches the database ('' stays '')."""

    descriptor_class = _EncryptedAttribute

    def get_prep_value(self, value: Any) -> Any:
        if isinstance(value, Ciphertext):
            return value.token
        value = super().get_prep_value(value)
        if value in (None, ""):
            return value
        return encrypt_text(str(value))

    def to_python(self, value: Any) -> Any:
        """Also the way back from ``value_to_string``: a dumped token stays a ``Ciphertext``."""
        if isinstance(value, Ciphertext):
            return value
        if isinstance(value, dict):
            return Ciphertext(_dumped_token(value))
        if value == LOST_SECRET_PLACEHOLDER:
            raise ValidationError(PLACEHOLDER_IS_NO_SECRET, code="lost_secret_placeholder")
        if value is not None and not isinstance(value, str):
            raise ValidationError(NOT_A_DUMPED_TOKEN, code="invalid")
        return value

    def value_to_string(self, obj: models.Model) -> Any:
        """What serializers write for a value no configured key opens (decrypted text is written as is)."""
        value = self.value_from_object(obj)
        if isinstance(value, Ciphertext):
            return {DUMP_KEY: value.token}
        return super().value_to_string(obj)

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | Ciphertext | None:
        if value in (None, ""):
            return value
        try:
            return decrypt_text(value)
        except DecryptionError:
            return Ciphertext(value)

    def pre_save(self, model_instance: models.Model, add: bool) -> Any:
        return self.value_from_object(model_instance)

    def value_from_object(self, obj: models.Model) -> Any:
        """The loaded value without decrypting again (a ``Ciphertext`` stays one: saved unchanged)."""
        if self.attname in obj.__dict__:
            return obj.__dict__[self.attname]
        return super().value_from_object(obj)


def _dumped_token(value: dict[Any, Any]) -> str:
    token = value.get(DUMP_KEY)
    if set(value) != {DUMP_KEY} or not isinstance(token, str) or not _looks_like_fernet_token(token):
        raise ValidationError(NOT_A_DUMPED_TOKEN, code="invalid")
    return token


def _looks_like_fernet_token(token: str) -> bool:
    """Version byte, timestamp, IV, whole AES blocks and an HMAC (the spec's layout); no key needed."""
    try:
        data = base64.urlsafe_b64decode(token.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        return False
    return (
        data[:1] == _FERNET_VERSION and len(data) >= _FERNET_OVERHEAD + 16 and (len(data) - _FERNET_OVERHEAD) % 16 == 0
    )


@dataclass(frozen=True)
class Reencryption:
    rotated: int
    current: int
    undecryptable: list[str]


def encrypted_fields() -> list[tuple[type[models.Model], EncryptedTextField]]:
    return [
        (model, model_field)
        for model in apps.get_models()
        for model_field in model._meta.concrete_fields
        if isinstance(model_field, EncryptedTextField)
    ]


def reencrypt_all() -> Reencryption:
    """Re-encrypt every stored secret with the first key (``MultiFernet.rotate``).

    Each row is swapped only if it still holds the token read, so a secret written meanwhile stays.
    Values no configured key opens are left as they are and listed ("app.Model.field pk=…").
    """
    keys = field_keys()
    rotated, current, undecryptable = 0, 0, []
    for model, model_field in encrypted_fields():
        name = model_field.attname
        stored = models.ExpressionWrapper(models.F(name), output_field=models.TextField())
        rows = (
            model._base_manager.exclude(**{f"{name}__isnull": True})
            .exclude(**{name: ""})
            .annotate(stored_token=stored)
            .values_list("pk", "stored_token")
            .order_by("pk")
        )
        for pk, token in rows.iterator():
            try:
                _fernet(keys[:1]).decrypt(token.encode())
                current += 1
                continue
            except InvalidToken:
                pass
            try:
                new_token = _fernet(keys).rotate(token.encode()).decode()
            except InvalidToken:
                undecryptable.append(f"{model._meta.label}.{model_field.name} pk={pk}")
                continue
            swapped = model._base_manager.filter(pk=pk, **{name: Ciphertext(token)})
            rotated += swapped.update(**{name: Ciphertext(new_token)})
    return Reencryption(rotated=rotated, current=current, undecryptable=undecryptable)
