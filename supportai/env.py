"""Strict readers for settings that come from the environment.

Every helper raises ``ConfigurationError`` with the variable's name when a value is present but
malformed, so a typo in production fails at start-up instead of silently falling back to a default.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Iterable, Mapping
from ipaddress import IPv4Network, IPv6Network, ip_network
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

TRUE_VALUES = frozenset({"1", "true", "yes", "on"})
FALSE_VALUES = frozenset({"0", "false", "no", "off", ""})


class ConfigurationError(ImproperlyConfigured):
    """An environment variable is missing or malformed: ops fix the environment, not the code.

    The entry points print its message alone, without a traceback (``supportai.startup``); every other
    ``ImproperlyConfigured`` (Django's own, a bug in ours) keeps its traceback.
    """


def _raw(name: str, environ: Mapping[str, str] | None) -> str | None:
    source = os.environ if environ is None else environ
    value = source.get(name)
    return None if value is None else value.strip()


def env_str(name: str, default: str = "", *, environ: Mapping[str, str] | None = None) -> str:
    value = _raw(name, environ)
    return default if value is None or value == "" else value


def env_bool(name: str, default: bool = False, *, environ: Mapping[str, str] | None = None) -> bool:
    value = _raw(name, environ)
    if value is None:
        return default
    lowered = value.lower()
    if lowered in TRUE_VALUES:
        return True
    if lowered in FALSE_VALUES:
        return False
    raise ConfigurationError(f"{name} must be one of 1/0, true/false, yes/no, on/off; got {value!r}")


def env_choice(
    name: str,
    default: str,
    choices: Iterable[str],
    *,
    ignore_case: bool = False,
    environ: Mapping[str, str] | None = None,
) -> str:
    """One of ``choices`` (an empty string among them means "off").

    With ``ignore_case`` the value may be spelled in any case and comes back spelled as in ``choices``.
    """
    value = env_str(name, default, environ=environ)
    allowed = set(choices)
    if ignore_case:
        by_folded = {choice.casefold(): choice for choice in allowed}
        matched = by_folded.get(value.casefold())
    else:
        matched = value if value in allowed else None
    if matched is None:
        listed = ", ".join(sorted(choice or '"" (off)' for choice in allowed))
        raise ConfigurationError(f"{name} must be one of {listed}; got {value!r}")
    return matched


def env_int(
    name: str,
    default: int,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
    environ: Mapping[str, str] | None = None,
) -> int:
    value = _raw(name, environ)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError as exc:
        raise ConfigurationError(f"{name} must be an integer; got {value!r}") from exc
    if minimum is not None and number < minimum:
        raise ConfigurationError(f"{name} must be >= {minimum}; got {number}")
    if maximum is not None and number > maximum:
        raise ConfigurationError(f"{name} must be <= {maximum}; got {number}")
    return number


def env_list(name: str, default: list[str] | None = None, *, environ: Mapping[str, str] | None = None) -> list[str]:
    """Comma-separated list; blank items are dropped."""
    value = _raw(name, environ)
    if value is None or value == "":
        return list(default or [])
    return [item.strip() for item in value.split(",") if item.strip()]


def env_url(
    name: str,
    default: str = "",
    *,
    schemes: frozenset[str],
    require_location: bool = True,
    environ: Mapping[str, str] | None = None,
) -> str:
    """A URL whose scheme must be one of ``schemes``; empty means "not configured"."""
    value = env_str(name, default, environ=environ)
    if not value:
        return ""
    parts = urlsplit(value)
    if parts.scheme not in schemes:
        allowed = ", ".join(sorted(schemes))
        raise ConfigurationError(f"{name} must use one of the schemes {allowed}; got {parts.scheme or 'none'!r}")
    if require_location and not parts.netloc and not parts.path:
        raise ConfigurationError(f"{name} has no host or path: {value!r}")
    return value


def env_origins(name: str, *, environ: Mapping[str, str] | None = None) -> list[str]:
    """Comma-separated origins such as ``https://example.com``; each needs a scheme and a host."""
    origins = env_list(name, environ=environ)
    for origin in origins:
        parts = urlsplit(origin)
        if parts.scheme not in {"http", "https"} or not parts.netloc or parts.path not in {"", "/"}:
            raise ConfigurationError(f"{name} entries must look like https://host[:port]; got {origin!r}")
    return origins


def env_networks(name: str, *, environ: Mapping[str, str] | None = None) -> list[IPv4Network | IPv6Network]:
    """Comma-separated IPv4/IPv6 addresses and CIDR networks (an address is a network of one).

    Host bits set (``10.0.0.1/8``) are refused like any other typo: the entry is ambiguous.
    """
    networks = []
    for entry in env_list(name, environ=environ):
        try:
            networks.append(ip_network(entry))
        except ValueError as exc:
            raise ConfigurationError(
                f"{name} entries must be IP addresses or networks such as 10.0.0.0/8 or 2001:db8::/32 "
                f"(no host bits after the prefix); got {entry!r}"
            ) from exc
    return networks


def env_fernet_key(name: str, *, environ: Mapping[str, str] | None = None) -> str:
    """A Fernet key: 32 bytes, url-safe base64. Empty means "not configured"."""
    value = env_str(name, environ=environ)
    if value:
        _check_fernet_key(name, value)
    return value


def env_fernet_keys(name: str, *, environ: Mapping[str, str] | None = None) -> list[str]:
    """Comma-separated Fernet keys, each checked like ``env_fernet_key``. Empty means "not configured"."""
    keys = env_list(name, environ=environ)
    for position, key in enumerate(keys, start=1):
        _check_fernet_key(f"{name} (key {position})", key)
    return keys


def _check_fernet_key(label: str, value: str) -> None:
    try:
        decoded = base64.urlsafe_b64decode(value.encode())
    except (binascii.Error, ValueError) as exc:
        raise ConfigurationError(f"{label} must be url-safe base64 (a Fernet key)") from exc
    if len(decoded) != 32:
        raise ConfigurationError(f"{label} must decode to 32 bytes (a Fernet key); got {len(decoded)}")
