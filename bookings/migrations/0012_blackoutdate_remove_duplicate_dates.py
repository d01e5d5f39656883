"""Closed dates added twice before the database refused them (0013): through the admin or the console,
or two adds at once. Of each set of the same date (tenant, services, day) the first (lowest id) is kept,
with the reasons of the set that differ, in order, joined by "; " as far as the column's 200 characters
hold whole reasons; a reason that no longer fits is written to the migration's output with its tenant
and date, to be typed again, never cut. The copies are deleted: the date stays closed as it was."""

import sys
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
        kept, left_out = _whole_reasons_that_fit(list(reasons))
        for reason in left_out:
            sys.stdout.write(
                f"\n  Closed date {same['date']} of tenant {same['tenant_id']} (closed date {same['first']}): "
                f"a copy's reason did not fit beside the others and was not kept: {reason!r}"
            )
        copies.exclude(pk=same["first"]).delete()
        copies.filter(pk=same["first"]).update(reason=kept)


def _whole_reasons_that_fit(reasons: list[str]) -> tuple[str, list[str]]:
    """The reasons joined by "; " in order, each whole, as far as ``REASON_MAX_LENGTH`` holds them; the rest."""
    kept: list[str] = []
    left_out: list[str] = []
    for reason in reasons:
        fits = len("; ".join([*kept, reason])) <= REASON_MAX_LENGTH
        (kept if fits else left_out).append(reason)
    return "; ".join(kept), left_out


class Migration(migrations.Migration):
    dependencies = [
        ("bookings", "0011_availabilityrule_rule_unique_hours"),
    ]

    operations = [
        migrations.RunPython(keep_the_first_of_the_same_date, migrations.RunPython.noop, elidable=True),
    ]
