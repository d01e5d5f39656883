"""Drop the UTC offset from stored service-hour times.

``hours.parse_weekly`` now refuses a time with an offset (times are local to the policy's time
zone). Before, an all-offset schedule could be saved and its offsets were ignored, so a policy
stored then would now fail every service-hours check; without the offset it reads as it always did.
"""

from __future__ import annotations

from datetime import time
from typing import Any

from django.db import migrations


def _local(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        parsed = time.fromisoformat(value)
    except ValueError:
        return value
    if parsed.tzinfo is None:
        return value
    naive = parsed.replace(tzinfo=None)
    return naive.isoformat("minutes" if not naive.second and not naive.microsecond else "auto")


def drop_offsets(apps: Any, schema_editor: Any) -> None:
    policy_model = apps.get_model("escalations", "EscalationPolicy")
    for policy in policy_model.objects.all():
        weekly = policy.weekly_hours
        if not isinstance(weekly, dict):
            continue
        local = {
            day: [[_local(value) for value in pair] if isinstance(pair, list) else pair for pair in pairs]
            if isinstance(pairs, list)
            else pairs
            for day, pairs in weekly.items()
        }
        if local != weekly:
            policy.weekly_hours = local
            policy.save(update_fields=["weekly_hours"])


class Migration(migrations.Migration):
    dependencies = [("escalations", "0001_initial")]

    operations = [migrations.RunPython(drop_offsets, migrations.RunPython.noop)]
