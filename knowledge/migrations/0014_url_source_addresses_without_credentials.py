"""A website source's ``start_url`` or ``sitemap_url`` may no longer hold a user name or password
(``https://user:password@host/``): they are refused now, and were never sent (the crawler dropped
them). Addresses stored with them (the admin once stored its JSON as typed) lose them here, so the
password is no longer kept in plain text and the next sync, which checks the stored settings again,
does not fail on them. The rest of each address is kept as it is."""

from urllib.parse import urlsplit, urlunsplit

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

URL_KEYS = ("start_url", "sitemap_url")


def _without_credentials(url: str) -> str:
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


def forwards(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    source_model = apps.get_model("knowledge", "KnowledgeSource")
    for source in source_model.objects.filter(kind="url").iterator():
        config = dict(source.config or {})
        for key in URL_KEYS:
            if isinstance(config.get(key), str):
                config[key] = _without_credentials(config[key])
        if config != source.config:
            source_model.objects.filter(pk=source.pk).update(config=config)


class Migration(migrations.Migration):
    dependencies = [("knowledge", "0013_document_errors_without_provider_text")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
