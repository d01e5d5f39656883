"""Issue (rotate) a tenant's identity-verification secret and print it once."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from supportai.identity import identity_secret_rotate
from supportai.management.options import tenant_by_slug


class Command(BaseCommand):
    help = (
        "Rotate the identity-verification secret of a tenant and print the new one (shown once). "
        "Tokens signed with the previous secret stay valid until the next rotation."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", required=True, help="Tenant slug")

    def handle(self, *args: Any, **options: Any) -> None:
        tenant = tenant_by_slug(options["tenant"])
        secret = identity_secret_rotate(tenant=tenant)
        self.stdout.write(f"New identity secret for {tenant.name} (store it on your server; it is not shown again):")
        self.stdout.write(secret)
        self.stdout.write("Sign customer tokens with HS256; see docs/identity-verification.md.")
