"""Tenant tier overrides that name a dated snapshot of an OpenAI model shut down (or about to be) move to its successor.

0007 moved the exact IDs o1, o4-mini, gpt-5, gpt-5-mini and o3; a row naming one of their snapshots
(``<base>-YYYY-MM-DD``: ``gpt-5-2025-08-07``, ``o1-2024-12-17``, ...) was left, though OpenAI shuts a snapshot down
with its base. Only rows under the ``openai`` provider whose model is one of these bases followed by a date that is
a real day change, each to its base's successor, gpt-6.1-sol (0007 says why); another model's snapshot
(``gpt-5.1-2025-11-13``, ``gpt-5-nano-2025-08-07``) and a date that is no day (``gpt-5-2025-02-31``: no snapshot, as
``routing.model_ids`` reads it) stay. The mapping, the date pattern and the day check are frozen here, not imported
(``model_ids`` may change; a migration must mean the same thing later). Not reversible in data: the old IDs no longer
answer.
"""

import re
from datetime import date

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

SUCCESSORS = {
    ("openai", "o1"): "gpt-6.1-sol",
    ("openai", "o4-mini"): "gpt-6.1-sol",
    ("openai", "gpt-5"): "gpt-6.1-sol",
    ("openai", "gpt-5-mini"): "gpt-6.1-sol",
    ("openai", "o3"): "gpt-6.1-sol",
}
DATE_SUFFIX = r"-[0-9]{4}-[0-9]{2}-[0-9]{2}$"


def _is_day(text: str) -> bool:
    """Whether ``YYYY-MM-DD`` is a day of the calendar (``2025-02-31`` is not)."""
    try:
        date(int(text[:4]), int(text[5:7]), int(text[8:]))
    except ValueError:
        return False
    return True


def snapshots_to_successors(apps: Apps, schema_editor: BaseDatabaseSchemaEditor | None) -> None:
    ModelConfig = apps.get_model("routing", "ModelConfig")
    for (provider, base), successor in SUCCESSORS.items():
        # the base, then the date and nothing else: gpt-5-mini's snapshots are not gpt-5's
        candidates = ModelConfig.objects.filter(provider=provider, model__regex=f"^{re.escape(base)}{DATE_SUFFIX}")
        snapshots = [pk for pk, model in candidates.values_list("pk", "model") if _is_day(model[-10:])]
        ModelConfig.objects.filter(pk__in=snapshots).update(model=successor)


class Migration(migrations.Migration):
    dependencies = [("routing", "0007_shut_down_openai_models_to_successors")]

    operations = [migrations.RunPython(snapshots_to_successors, migrations.RunPython.noop)]
