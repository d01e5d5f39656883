# A partial index for the abandoned-reply sweep, built without locking writes to the messages table.

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("chat", "0003_message_answer_claimed_at"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="message",
            index=models.Index(
                condition=models.Q(("status", "streaming")),
                fields=["created_at"],
                name="message_streaming_created_at",
            ),
        ),
    ]
