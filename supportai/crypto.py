"""Secrets at rest: Fernet encryption keyed by ``FIELD_ENCRYPTION_KEY``.

Use ``EncryptedTextField`` for any secret we must read back (identity-verification secrets, webhook
signing secrets, OAuth tokens). The database only ever holds the Fernet token. Production refuses to
start without the key (settings); development derives a stable key from ``SECRET_KEY`` so a fresh
checkout works, and says so in the README.
"""

from __future__ import annotations

import base64
import hashlib
from functools import cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.db import models


class DecryptionError(Exception):
    """A stored value could not be decrypted (wrong or rotated ``FIELD_ENCRYPTION_KEY``)."""


def field_key() -> str:
    """The Fernet key in use: ``FIELD_ENCRYPTION_KEY``, or in development one derived from ``SECRET_KEY``."""
    if settings.FIELD_ENCRYPTION_KEY:
        return str(settings.FIELD_ENCRYPTION_KEY)
    derived = hashlib.sha256(f"supportai-dev-field-key:{settings.SECRET_KEY}".encode()).digest()
    return base64.urlsafe_b64encode(derived).decode()


@cache
def _fernet(key: str) -> Fernet:
    return Fernet(key.encode())


def encrypt_text(plain: str) -> str:
    return _fernet(field_key()).encrypt(plain.encode()).decode()


def decrypt_text(token: str) -> str:
    try:
        return _fernet(field_key()).decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise DecryptionError("stored secret cannot be decrypted with the current FIELD_ENCRYPTION_KEY") from exc


class EncryptedTextField(models.TextField):
    """A text column whose value is encrypted before it reaches the database ('' stays '')."""

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value in (None, ""):
            return value
        return encrypt_text(str(value))

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if value in (None, ""):
            return value
        return decrypt_text(value)
