# A partial index of the waiting line in queue order, built without locking writes to escalations.

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("escalations", "0003_delivery_next_attempt_and_lease"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="escalation",
            index=models.Index(
                condition=models.Q(("mode", "live"), ("status", "pending")),
                fields=["tenant", "priority", "sla_due_at", "created_at", "id"],
                name="escalation_waiting_line",
            ),
        ),
    ]
