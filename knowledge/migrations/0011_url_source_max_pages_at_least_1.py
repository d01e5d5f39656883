"""A website source's ``max_pages`` must now be 1 or more: a stored 0, accepted before and read as 1
by every sync, is written as the 1 it meant (else its next sync would fail on the stricter check)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("knowledge", "0010_document_ascii_hosts")]

    operations = [
        migrations.RunSQL(
            """
            UPDATE knowledge_knowledgesource
               SET config = jsonb_set(config, '{max_pages}', '1')
             WHERE kind = 'url' AND jsonb_typeof(config -> 'max_pages') = 'number' AND (config ->> 'max_pages') = '0'
            """,
            migrations.RunSQL.noop,
        )
    ]
