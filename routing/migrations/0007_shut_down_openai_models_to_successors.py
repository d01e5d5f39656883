"""Tenant tier overrides that name an OpenAI model shut down (or about to be) move to its successor.

Only rows holding exactly one of these IDs under the ``openai`` provider change: o1 and o4-mini (shut down on
2026-10-23) and gpt-5, gpt-5-mini and o3 (shut down on 2026-12-11, days after this migration was written, so a
deployment migrating before then moves them a few days early rather than after their calls start failing). All move
to gpt-6.1-sol: OpenAI's named successor for gpt-5 (and, by copies of its deprecations page, for o3); for the others
OpenAI names models without a price row here (gpt-6.1-terra, gpt-5.6-sol, gpt-5.6-terra), and gpt-6.1-sol is the
nearest priced one it names (docs/routing.md "Default models"). The mapping is frozen here, not imported, so the
migration means the same thing later. Not reversible in data: the old IDs no longer answer.
"""

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


def retired_to_successors(apps: Apps, schema_editor: BaseDatabaseSchemaEditor | None) -> None:
    ModelConfig = apps.get_model("routing", "ModelConfig")
    for (provider, retired), successor in SUCCESSORS.items():
        ModelConfig.objects.filter(provider=provider, model=retired).update(model=successor)


class Migration(migrations.Migration):
    dependencies = [("routing", "0006_cost_cache_write_tokens")]

    operations = [migrations.RunPython(retired_to_successors, migrations.RunPython.noop)]
