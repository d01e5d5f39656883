"""Turn ``EMAIL_URL`` into Django's e-mail settings.

Forms: ``console://`` (default; printed), ``memory://`` (kept in ``django.core.mail.outbox``),
``file:///abs/dir`` (one file per message; ``file://`` alone writes under ``.data/mail``),
``smtp://user:password@host:port``, ``smtp+tls://…`` (STARTTLS) and ``smtp+ssl://…`` (implicit TLS).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from supportai.env import ConfigurationError


@dataclass(frozen=True)
class EmailSettings:
    backend: str
    file_path: str = ""
    host: str = "localhost"
    port: int = 25
    user: str = ""
    password: str = ""
    use_tls: bool = False
    use_ssl: bool = False


_DEFAULT_PORTS = {"smtp": 25, "smtp+tls": 587, "smtp+ssl": 465}


def email_settings(url: str, *, data_dir: Path) -> EmailSettings:
    parts = urlsplit(url)
    scheme = parts.scheme
    if scheme == "console":
        return EmailSettings(backend="django.core.mail.backends.console.EmailBackend")
    if scheme == "memory":
        return EmailSettings(backend="django.core.mail.backends.locmem.EmailBackend")
    if scheme == "file":
        path = unquote(parts.path) or str(data_dir / "mail")
        return EmailSettings(backend="django.core.mail.backends.filebased.EmailBackend", file_path=path)
    if scheme in _DEFAULT_PORTS:
        if not parts.hostname:
            raise ConfigurationError("EMAIL_URL for SMTP needs a host, e.g. smtp+tls://user:pass@mail.example.com")
        try:
            port = parts.port or _DEFAULT_PORTS[scheme]
        except ValueError as exc:
            raise ConfigurationError("EMAIL_URL has an invalid port") from exc
        return EmailSettings(
            backend="django.core.mail.backends.smtp.EmailBackend",
            host=parts.hostname,
            port=port,
            user=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
            use_tls=scheme == "smtp+tls",
            use_ssl=scheme == "smtp+ssl",
        )
    raise ConfigurationError(f"EMAIL_URL scheme {scheme!r} is not supported")
