"""Booking confirmation codes such as ``BK-7KQ4MX``.

The alphabet leaves out look-alikes (0/O/Q… see below) so a code read over the phone or copied
from an email survives: no 0 O 1 I L 2 Z 5 S 8 B U V. Six characters from 23 symbols give ~148
million codes, drawn with ``secrets`` so they cannot be predicted. Knowing a code is never enough:
look-ups also need the booking's email.
"""

from __future__ import annotations

import re
import secrets

ALPHABET = "34679ACDEFGHJKMNPQRTWXY"
CODE_LENGTH = 6
PREFIX = "BK-"
CODE_PATTERN = re.compile(rf"^{PREFIX}[{ALPHABET}]{{{CODE_LENGTH}}}$")


def generate_code() -> str:
    return PREFIX + "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(raw: str) -> str:
    """Upper-case and trim; accept the code without its ``BK-`` prefix or with a space for the dash."""
    code = re.sub(r"[\s\-_]+", "", raw or "").upper()
    if code.startswith("BK") and len(code) == CODE_LENGTH + 2:
        code = code[2:]
    return PREFIX + code if code else ""


def looks_like_code(code: str) -> bool:
    return bool(CODE_PATTERN.match(code))
