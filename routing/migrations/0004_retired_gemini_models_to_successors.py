"""Tenant tier overrides that name a shut-down Gemini model move to the successor Google names.

Only rows holding exactly a retired ID under the ``gemini`` provider change: gemini-2.0-flash (the old
tier-1 default, shut down 2026-06-01; Google named gemini-2.5-flash as its replacement) and
gemini-2.5-flash (shut down 2026-12-01 in favour of gemini-3.5-flash-lite) both move to
gemini-3.5-flash-lite; every call on them fails. The mapping is frozen here, not imported, so the
migration means the same thing later. Not reversible in data: the old IDs no longer answer anyway.
"""

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

SUCCESSORS = {
    ("gemini", "gemini-2.0-flash"): "gemini-3.5-flash-lite",
    ("gemini", "gemini-2.5-flash"): "gemini-3.5-flash-lite",
}


def retired_to_successors(apps: Apps, schema_editor: BaseDatabaseSchemaEditor | None) -> None:
    ModelConfig = apps.get_model("routing", "ModelConfig")
    for (provider, retired), successor in SUCCESSORS.items():
        ModelConfig.objects.filter(provider=provider, model=retired).update(model=successor)


class Migration(migrations.Migration):
    dependencies = [("routing", "0003_retired_models_to_successors")]

    operations = [migrations.RunPython(retired_to_successors, migrations.RunPython.noop)]
