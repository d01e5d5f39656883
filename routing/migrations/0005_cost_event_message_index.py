"""An index on each tenant's CostEvent rows by message: every stored answer sums its own calls'
tokens and dollars (``chat.services._record_usage``), which otherwise read all of the tenant's calls.
Built with ``CREATE INDEX CONCURRENTLY`` outside a transaction, so chat keeps writing costs meanwhile."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("routing", "0004_retired_gemini_models_to_successors")]

    operations = [
        AddIndexConcurrently(
            model_name="costevent",
            index=models.Index(
                condition=models.Q(message_id__isnull=False),
                fields=["tenant", "message_id"],
                name="costevent_tenant_message",
            ),
        ),
    ]
