"""Tenant tier overrides that name a dated snapshot of a shut-down Claude model move to its successor.

0003 moved the exact ID claude-sonnet-4-5 (shut down on 2026-11-30) to claude-sonnet-4-6; a row naming its dated
snapshot (Anthropic's ``<base>-YYYYMMDD``: ``claude-sonnet-4-5-20250929``, the ID Anthropic's model page gives) was
left, though Anthropic shuts a snapshot down with its base. Only rows under the ``anthropic`` provider whose model is
the base, a hyphen and eight digits that are a real day change; another model's snapshot
(``claude-haiku-4-5-20251001``, ``claude-sonnet-4-5-1-20250929``) and eight digits that are no day stay. The mapping,
the pattern and the day check are frozen here, not imported, so the migration means the same thing later. Not
reversible in data: the old IDs no longer answer.
"""

import re
from datetime import date

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

SUCCESSORS = {("anthropic", "claude-sonnet-4-5"): "claude-sonnet-4-6"}
DAY_SUFFIX = r"-[0-9]{8}$"


def _is_day(digits: str) -> bool:
    """Whether ``YYYYMMDD`` is a day of the calendar (``20251301`` is not)."""
    try:
        date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        return False
    return True


def snapshots_to_successors(apps: Apps, schema_editor: BaseDatabaseSchemaEditor | None) -> None:
    ModelConfig = apps.get_model("routing", "ModelConfig")
    for (provider, base), successor in SUCCESSORS.items():
        # the base, then eight digits and nothing else: claude-sonnet-4-5-1-… is another model
        candidates = ModelConfig.objects.filter(provider=provider, model__regex=f"^{re.escape(base)}{DAY_SUFFIX}")
        snapshots = [pk for pk, model in candidates.values_list("pk", "model") if _is_day(model[-8:])]
        ModelConfig.objects.filter(pk__in=snapshots).update(model=successor)


class Migration(migrations.Migration):
    dependencies = [("routing", "0008_shut_down_openai_snapshots_to_successors")]

    operations = [migrations.RunPython(snapshots_to_successors, migrations.RunPython.noop)]
