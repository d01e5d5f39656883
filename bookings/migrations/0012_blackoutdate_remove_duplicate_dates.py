"""Closed dates added twice before the database refused them (0013): through the admin or the console,
or two adds at once. Of each set of the same date (tenant, services, day) the first (lowest id) is kept,
with the reasons of the set that differ, in order (up to the column's 200 characters), so nothing staff
wrote about the day is lost. The copies are deleted: the date stays closed as it was."""

from typing import Any

from django.db import migrations
from django.db.models import Count, Min

SAME_DATE = ("tenant_id", "service_id", "date")
REASON_MAX_LENGTH = 200


def keep_the_first_of_the_same_date(apps: Any, schema_editor: Any) -> None:
    blackout = apps.get_model("bookings", "BlackoutDate")
    sets = blackout.objects.order_by().values(*SAME_DATE).annotate(rows=Count("id"), first=Min("id")).filter(rows__gt=1)
    for same in sets:
        # service_id None closes every service: matched with IS NULL
        copies = blackout.objects.filter(**{field: same[field] for field in SAME_DATE})
        reasons = dict.fromkeys(r.strip() for r in copies.order_by("pk").values_list("reason", flat=True) if r.strip())
        copies.exclude(pk=same["first"]).delete()
        copies.filter(pk=same["first"]).update(reason="; ".join(reasons)[:REASON_MAX_LENGTH])


class Migration(migrations.Migration):
    dependencies = [
        ("bookings", "0011_availabilityrule_rule_unique_hours"),
    ]

    operations = [
        migrations.RunPython(keep_the_first_of_the_same_date, migrations.RunPython.noop, elidable=True),
    ]
