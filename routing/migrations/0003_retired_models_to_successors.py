"""Tenant tier overrides that name a retired model move to the successor the vendor names.

Only rows holding exactly a retired ID change (claude-sonnet-4-5, the old tier-3 default, shut down on
2026-11-30): every call on them fails. The mapping is frozen here, not imported, so the migration means
the same thing later. Not reversible in data: the old ID no longer answers anyway.
"""

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

SUCCESSORS = {("anthropic", "claude-sonnet-4-5"): "claude-sonnet-4-6"}


def retired_to_successors(apps: Apps, schema_editor: BaseDatabaseSchemaEditor | None) -> None:
    ModelConfig = apps.get_model("routing", "ModelConfig")
    for (provider, retired), successor in SUCCESSORS.items():
        ModelConfig.objects.filter(provider=provider, model=retired).update(model=successor)


class Migration(migrations.Migration):
    dependencies = [("routing", "0002_cost_event_cancelled_outcome")]

    operations = [migrations.RunPython(retired_to_successors, migrations.RunPython.noop)]
