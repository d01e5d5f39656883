"""Documents remember that a re-index embedding every child anew was asked for (``Document.reembed``),
so that the beat sweep finishing one whose task was lost embeds anew too, instead of reusing the
vectors the operator asked to replace. A constant default is added without rewriting the table, and
the database default lets code older than the column insert documents while a deploy rolls out."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("knowledge", "0018_document_list_indexes")]

    operations = [
        migrations.AddField(
            model_name="document",
            name="reembed",
            field=models.BooleanField(db_default=False, default=False, editable=False),
        ),
    ]
