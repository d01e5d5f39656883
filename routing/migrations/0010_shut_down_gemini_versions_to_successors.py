"""Tenant tier overrides that name a stable version of a shut-down Gemini model move to its successor.

0004 moved the exact IDs gemini-2.0-flash (shut down 2026-06-01) and gemini-2.5-flash (2026-12-01) to
gemini-3.5-flash-lite; a row naming a stable version of one (Google's ``<base>-NNN``: ``gemini-2.0-flash-001``, which
Google lists as a version of Gemini 2.0 Flash and shuts down with it) was left. Only rows under the ``gemini``
provider whose model is one of these bases, a hyphen and three digits change; another model's version
(``gemini-2.0-flash-lite-001``) and a preview (``gemini-2.5-flash-preview-05-20``) stay. The mapping and the pattern
are frozen here, not imported, so the migration means the same thing later. Not reversible in data: the old IDs no
longer answer.
"""

import re

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

SUCCESSORS = {
    ("gemini", "gemini-2.0-flash"): "gemini-3.5-flash-lite",
    ("gemini", "gemini-2.5-flash"): "gemini-3.5-flash-lite",
}
VERSION_SUFFIX = r"-[0-9]{3}$"


def versions_to_successors(apps: Apps, schema_editor: BaseDatabaseSchemaEditor | None) -> None:
    ModelConfig = apps.get_model("routing", "ModelConfig")
    for (provider, base), successor in SUCCESSORS.items():
        # the base, then the version and nothing else: gemini-2.0-flash-lite's versions are not gemini-2.0-flash's
        versions = ModelConfig.objects.filter(provider=provider, model__regex=f"^{re.escape(base)}{VERSION_SUFFIX}")
        versions.update(model=successor)


class Migration(migrations.Migration):
    dependencies = [("routing", "0009_shut_down_anthropic_snapshots_to_successors")]

    operations = [migrations.RunPython(versions_to_successors, migrations.RunPython.noop)]
