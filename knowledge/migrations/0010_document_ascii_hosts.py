"""Website addresses stored with a non-ASCII host (``https://bücher.example/``) rewritten with the
host IDNA-encoded (``https://xn--bcher-kva.example/``), as ``normalize_url`` now writes every
address: the next sync finds its pages under the addresses they are stored under, instead of
storing and embedding them again under the other spelling. A page already stored under both
spellings keeps its rows as they are (the next sync removes the one it no longer reads)."""

from urllib.parse import urlsplit, urlunsplit

import idna
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps


def _ascii_address(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname
    if not host or host.isascii():
        return url
    try:
        encoded = idna.encode(host, uts46=True).decode("ascii").lower()
    except UnicodeError:
        return url
    return urlunsplit(parts._replace(netloc=encoded if parts.port is None else f"{encoded}:{parts.port}"))


def forwards(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    source_model = apps.get_model("knowledge", "KnowledgeSource")
    document_model = apps.get_model("knowledge", "Document")
    for source in source_model.objects.filter(kind="url"):
        config = dict(source.config or {})
        for key in ("start_url", "sitemap_url"):
            if isinstance(config.get(key), str):
                config[key] = _ascii_address(config[key])
        if config != source.config:
            source_model.objects.filter(pk=source.pk).update(config=config)
        documents = document_model.objects.filter(source=source)
        taken = set(documents.values_list("external_id", flat=True))
        for document in documents.iterator():
            external_id = _ascii_address(document.external_id)
            if external_id != document.external_id and external_id in taken:
                continue
            taken.add(external_id)
            aliases = document.aliases
            changed = {
                "external_id": external_id,
                "url": _ascii_address(document.url),
                "aliases": [_ascii_address(a) if isinstance(a, str) else a for a in aliases]
                if isinstance(aliases, list)
                else aliases,
            }
            if any(getattr(document, field) != value for field, value in changed.items()):
                documents.filter(pk=document.pk).update(**changed)


class Migration(migrations.Migration):
    dependencies = [("knowledge", "0009_document_file_name")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
