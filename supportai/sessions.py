"""Django's database sessions, with a cookie's key checked before the database is asked for it.

Django issues session keys of 32 lowercase letters and digits, and takes any cookie value of eight
characters or more for one: a NUL, which a client writes as a cookie's octal escape (``"\\000"``),
reached PostgreSQL, which refuses to compare it, and every page answered 500 (the uploads' credential
check in daphne, ``knowledge/upload_credentials.py``, a 503). A key Django would never issue is no
session: the visitor is not logged in.
"""

from __future__ import annotations

from django.contrib.sessions.backends.base import VALID_KEY_CHARS
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore

ISSUED_KEY_CHARS = frozenset(VALID_KEY_CHARS)


class SessionStore(DatabaseSessionStore):
    def _validate_session_key(self, key: str | None) -> bool:
        # Django's own check (at least 8 characters), and only the characters of the keys it issues.
        return key is not None and len(key) >= 8 and ISSUED_KEY_CHARS.issuperset(key)
