"""Re-encrypt every stored secret with the first key of ``FIELD_ENCRYPTION_KEYS`` (README: rotating the key)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from supportai.crypto import reencrypt_all


class Command(BaseCommand):
    help = (
        "Re-encrypt every encrypted column with the first key of FIELD_ENCRYPTION_KEYS, so the other keys "
        "can then be dropped. Fails, naming the rows, when a stored value opens with none of the keys."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        result = reencrypt_all()
        self.stdout.write(f"Re-encrypted {result.rotated} value(s); {result.current} already used the first key.")
        if result.undecryptable:
            rows = "\n  ".join(result.undecryptable)
            raise CommandError(
                f"{len(result.undecryptable)} value(s) open with no key in FIELD_ENCRYPTION_KEYS and were left "
                f"as they are (add the key they were written with, or set a new secret):\n  {rows}"
            )
