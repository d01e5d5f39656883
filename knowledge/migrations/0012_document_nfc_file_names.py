"""Stored file names rewritten in Unicode NFC, as uploads and ``ingest`` now name every file
(``knowledge.parsing.file_name_nfc``): a file named on macOS (NFD: "e" and a combining accent) is
found again when it comes from Windows (NFC), instead of being stored and embedded a second time.

Each document of an upload or folder source that came from a file gets the file's NFC name, and so
does its id when the id is the file's name or a CSV FAQ row's "<file>#<16 hex digits>" (a corpus
record's id is its corpus's, and stays). A document whose NFC id the source already holds (the
file was uploaded in both forms) keeps its row as it is: a tenant deletes the one it no longer
wants, as an ``ingest`` run with pruning does."""

import re
import unicodedata

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

CSV_ROW = re.compile(r"#[0-9a-fA-F]{16}")


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _nfc_external_id(external_id: str, file_name: str) -> str:
    if external_id == file_name:
        return _nfc(external_id)
    rest = external_id[len(file_name) :]
    if external_id.startswith(file_name) and CSV_ROW.fullmatch(rest):
        return _nfc(file_name) + rest
    return external_id


def forwards(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    source_model = apps.get_model("knowledge", "KnowledgeSource")
    document_model = apps.get_model("knowledge", "Document")
    for source in source_model.objects.exclude(kind="url").iterator():
        documents = document_model.objects.filter(source=source)
        # Only names with a character outside ASCII can change; NFC of ASCII is itself.
        named = documents.exclude(file_name="").filter(file_name__regex=r"[^\x01-\x7f]")
        if not named.exists():
            continue
        taken = set(documents.values_list("external_id", flat=True))
        for pk, external_id, file_name in named.values_list("pk", "external_id", "file_name").iterator():
            changed = {"external_id": _nfc_external_id(external_id, file_name), "file_name": _nfc(file_name)}
            if changed["external_id"] != external_id and changed["external_id"] in taken:
                continue
            taken.add(changed["external_id"])
            if changed != {"external_id": external_id, "file_name": file_name}:
                documents.filter(pk=pk).update(**changed)


class Migration(migrations.Migration):
    dependencies = [("knowledge", "0011_url_source_max_pages_at_least_1")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
