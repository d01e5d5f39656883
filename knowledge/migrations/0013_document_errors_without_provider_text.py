"""Documents' errors no longer quote the embedding provider (docs/retrieval.md "Embedding
providers"): its words are about the operator's account (a key's last characters, organisation and
request ids, a proxy's address), and tenants read these errors. Errors stored before in the old
forms ("Embedding failed: <provider's words>", with or without a retry note, and "Re-index stopped:
<provider's words>") are replaced by a plain message; the kind of failure is not known any more."""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

# The forms stored before (``: `` after the prefix), and what replaces each.
PLAIN = {
    "Embedding failed: ": "Embedding failed. The embedding service failed. Re-index the document to try again.",
    "Re-index stopped: ": "Re-index stopped. The embedding service failed. Re-index the document to try again.",
}


def forwards(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    document_model = apps.get_model("knowledge", "Document")
    for prefix, plain in PLAIN.items():
        document_model.objects.filter(error__startswith=prefix).update(error=plain)


class Migration(migrations.Migration):
    dependencies = [("knowledge", "0012_document_nfc_file_names")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
