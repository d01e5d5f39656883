"""Create (or bring up to date) the demo tenant and its staff. Safe to run any number of times."""

from __future__ import annotations

from argparse import ArgumentTypeError
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from supportai.demo import DEMO_STAFF, seed_demo_tenant
from supportai.models import validate_origin


def _origin(value: str) -> str:
    # Checked here, before anything is seeded: the tenant's own check names the value's place among
    # all its origins ("Item 4 in the array"), which the operator never typed.
    try:
        validate_origin(value)
    except ValidationError as exc:
        raise ArgumentTypeError("; ".join(exc.messages)) from None
    return value


class Command(BaseCommand):
    help = "Create or refresh the demo tenant (Juniper & Sage Wellness Studio) with one user per role."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--origin",
            action="append",
            default=[],
            type=_origin,
            help="Extra widget origin to allow (repeatable). The local demo origins are always allowed.",
        )
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="Seed even when DEBUG is off (the demo users have well-known passwords).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and not options["allow_production"]:
            raise CommandError(
                "seed_demo creates users with well-known passwords; run it with DEBUG=1 "
                "or pass --allow-production if you really mean it."
            )
        try:
            result = seed_demo_tenant(extra_origins=options["origin"])
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        verb = "Created" if result.created else "Updated"
        self.stdout.write(self.style.SUCCESS(f"{verb} demo tenant '{result.tenant.name}' ({result.tenant.slug})"))
        self.stdout.write(f"  widget key: {result.tenant.public_key}")
        for line in result.report:
            self.stdout.write(f"  {line}")
        self.stdout.write("Demo logins (development only):")
        for staff in DEMO_STAFF:
            self.stdout.write(f"  {staff.role:<8} {staff.username:<14} password: {staff.password}")
