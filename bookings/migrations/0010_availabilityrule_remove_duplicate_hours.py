"""Opening hours added twice before the database refused them (0011): through the admin, or two adds at
once, which the console's check alone let through. Of each set of the same hours (tenant, services, day,
from and to) the first (lowest id) is kept, with the largest capacity of the set: where hours overlap,
the larger capacity counts, so customers can book what they could before. The copies are deleted."""

from typing import Any

from django.db import migrations
from django.db.models import Count, Max, Min

SAME_HOURS = ("tenant_id", "service_id", "weekday", "start_time", "end_time")


def keep_the_first_of_the_same_hours(apps: Any, schema_editor: Any) -> None:
    rule = apps.get_model("bookings", "AvailabilityRule")
    sets = (
        rule.objects.order_by()
        .values(*SAME_HOURS)
        .annotate(rows=Count("id"), first=Min("id"), capacity=Max("capacity"))
        .filter(rows__gt=1)
    )
    for same in sets:
        # service_id None is the tenant's hours: matched with IS NULL
        copies = rule.objects.filter(**{field: same[field] for field in SAME_HOURS})
        copies.exclude(pk=same["first"]).delete()
        copies.filter(pk=same["first"]).update(capacity=same["capacity"])


class Migration(migrations.Migration):
    dependencies = [
        ("bookings", "0009_booking_refund_requested_at"),
    ]

    operations = [
        migrations.RunPython(keep_the_first_of_the_same_hours, migrations.RunPython.noop, elidable=True),
    ]
