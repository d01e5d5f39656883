"""Stored languages rewritten in the one form uploads, ``ingest``, syncs and the admin now store
(``knowledge.languages.clean_language`` and ``declared_language``): "EN", "en_US", "english",
"English (UK)", "deu" become "en", "en-US", "en", "en-GB", "de", so the console, the API, the admin's
filter and analytics show one spelling of each language.

Nothing is marked for re-index: a value is rewritten only when its new form takes the same
text-search configuration (``search_config``), and the content hash, which covers the language, is
rewritten with it when it is the hash of the stored title, url, language and content (it is unless
the title or url was cut to its column), so that the next ingest of an unchanged file finds it
unchanged. A value that is no language (typed in the admin before it checked) is left as it is."""

import hashlib

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

from knowledge.languages import clean_language, declared_language, search_config

BATCH = 500


def _canonical(language: str) -> str:
    try:
        canonical = clean_language(language)
    except ValueError:
        canonical = declared_language(language) or language
    return canonical if search_config(canonical) == search_config(language) else language


def _content_hash(title: str, url: str, language: str, content: str) -> str:
    # knowledge.services.content_hash of the document these fields were stored from
    return hashlib.sha256("\x1f".join([title, url, language, content]).encode()).hexdigest()


def forwards(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    document_model = apps.get_model("knowledge", "Document")
    for language in list(document_model.objects.values_list("language", flat=True).distinct().order_by()):
        canonical = _canonical(language)
        if canonical == language:
            continue
        documents = document_model.objects.filter(language=language).only("title", "url", "content", "content_hash")
        changed = []
        for document in documents.iterator(chunk_size=BATCH):
            document.language = canonical
            if document.content_hash == _content_hash(document.title, document.url, language, document.content):
                document.content_hash = _content_hash(document.title, document.url, canonical, document.content)
            changed.append(document)
            if len(changed) == BATCH:
                document_model.objects.bulk_update(changed, ["language", "content_hash"])
                changed = []
        document_model.objects.bulk_update(changed, ["language", "content_hash"])


class Migration(migrations.Migration):
    dependencies = [("knowledge", "0015_document_queued_at")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
