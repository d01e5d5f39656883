"""Documents record what their index was built with (``Document.index_settings``, knowledge/staleness.py),
so a plain ``reindex`` finds those built with other chunk sizes, another title weight or older rules.
The rows stored before get the column's default, an empty record, which ``reindex`` reads as the legacy
rules version 0 with no sizes: they may predate session 18's lexeme rules (invisible characters), so
``reindex`` takes them (reusing every stored vector). A constant default is added without rewriting the
table. Code older than the column can still insert documents (the database default records nothing) and
index them (leaving the record as it was): ``reindex`` takes those as legacy too."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("knowledge", "0016_document_canonical_languages")]

    operations = [
        migrations.AddField(
            model_name="document",
            name="index_settings",
            field=models.JSONField(
                blank=True, db_default=models.Value({}, output_field=models.JSONField()), default=dict, editable=False
            ),
        ),
    ]
