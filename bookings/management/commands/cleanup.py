"""``manage.py cleanup``: expire proposals, release unpaid holds, complete ended bookings, expire idle resume
tokens, purge old proposals."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from bookings.housekeeping import run_housekeeping


class Command(BaseCommand):
    help = "Housekeeping (Celery beat runs it every 5 minutes): proposals, unpaid holds, ended bookings, resume tokens."

    def handle(self, *args: Any, **options: Any) -> None:
        report = run_housekeeping().as_dict()
        for name, count in report.items():
            self.stdout.write(f"{name.replace('_', ' ')}: {count}")
