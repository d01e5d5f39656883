"""Admin for the knowledge base; rows are confined to the staff member's tenants."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import quote
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Model, QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import capfirst

from knowledge import languages
from knowledge.folder_sources import tenant_visible_config
from knowledge.models import Chunk, Document, KnowledgeSource, RetrievalTuning, SourceKind
from knowledge.services import document_delete, documents_delete, documents_reindex_enqueue
from knowledge.source_config import (
    FIRST_SYNC_QUEUED,
    NAME_RESERVED,
    NAME_TAKEN,
    NEXT_SYNC_USES_SETTINGS,
    UPLOAD_SOURCE_NAMES,
    NameTaken,
    SourceConfigError,
    SyncRunning,
    name_kept_unique,
    source_sync_enqueue,
    sync_running,
    url_source_check,
)
from knowledge.sources import knowledge_source_delete
from supportai.admin_mixins import TenantScopedModelAdmin
from supportai.models import Tenant

CONFIG_NOT_AN_OBJECT = (
    'A website source\'s config is a JSON object, such as {"start_url": "https://help.example.com/"}.'
)

SYNC_NOW_ACTION = "Sync the selected website (URL) sources now"

# What ``ModelAdmin.get_deleted_objects`` answers: the rows listed, the count per model, the models
# the user may not delete, and the rows that protect them.
DeletedObjects = tuple[list[Any], dict[str, int], set[str], list[Any]]


def _deletion_summed(
    model_admin: admin.ModelAdmin, request: HttpRequest, objs: Iterable[Model], held: Mapping[int, dict[str, int]]
) -> DeletedObjects:
    """A delete confirmation that lists the rows being deleted, each with how many rows of each kind
    leave with it (``held``, by pk), rather than every document and chunk: Django's own collects each
    of them in full (text, embedding) and asks a permission for each. What leaves with a row is of
    its tenant, so whoever may delete the row may delete them."""
    opts = model_admin.model._meta
    listed: list[Any] = []
    counts: dict[str, int] = {}
    lacking: set[str] = set()
    for obj in objs:
        if not model_admin.has_delete_permission(request, obj):
            lacking.add(str(opts.verbose_name))
        url = reverse(f"{model_admin.admin_site.name}:{opts.app_label}_{opts.model_name}_change", args=[quote(obj.pk)])
        listed.append(format_html('{}: <a href="{}">{}</a>', capfirst(opts.verbose_name), url, obj))
        listed.append([f"{n} {kind}" for kind, n in held.get(obj.pk, {}).items()])
        counts[str(opts.verbose_name_plural)] = counts.get(str(opts.verbose_name_plural), 0) + 1
        for kind, n in held.get(obj.pk, {}).items():
            counts[kind] = counts.get(kind, 0) + n
    return listed, counts, lacking, []


class KnowledgeSourceForm(forms.ModelForm):
    """A website source is checked as the console and the REST API check it (``url_source_check``:
    its name rules, its settings and the pre-flight check that its address is public), and stored
    as they store it; no other source takes a name an upload source is kept for. A source changed
    here keeps its tenant (a read-only field), which leaves the tenant's unique names out of
    Django's own check: a name another of its sources has is refused here rather than by the table."""

    class Meta:
        model = KnowledgeSource
        fields = ("tenant", "name", "kind", "config")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        kind = cleaned.get("kind", self.instance.kind)
        name = cleaned.get("name", "")
        if kind == SourceKind.URL:
            self._url_source_clean(cleaned, name=name)
        elif kind != SourceKind.UPLOAD and name in UPLOAD_SOURCE_NAMES:
            # Uploads go to the source of that name and refuse one of another kind.
            self.add_error("name", NAME_RESERVED.format(name=name))
        elif self.instance.pk is not None and name:
            others = KnowledgeSource.objects.for_tenant(self.instance.tenant).exclude(pk=self.instance.pk)
            if others.filter(name=name).exists():
                self.add_error("name", NAME_TAKEN.format(name=name))
        return cleaned

    def _url_source_clean(self, cleaned: dict[str, Any], *, name: str) -> None:
        source = self.instance if self.instance.pk is not None else None
        tenant = source.tenant if source is not None else cleaned.get("tenant")
        if not name or tenant is None or "config" not in cleaned:
            return  # the missing field has its own error already
        config = cleaned["config"]
        if not isinstance(config, dict):
            self.add_error("config", CONFIG_NOT_AN_OBJECT)
            return
        try:
            cleaned["config"] = url_source_check(tenant=tenant, name=name, config=config, source=source)
        except SourceConfigError as exc:
            # The settings are one JSON field here; the message names the setting it is about.
            self.add_error("name" if exc.field == "name" else "config", str(exc))


@admin.register(KnowledgeSource)
class KnowledgeSourceAdmin(TenantScopedModelAdmin):
    form = KnowledgeSourceForm
    list_display = ("name", "tenant", "kind", "status", "last_synced_at", "error")
    list_filter = ("kind", "status")
    list_select_related = ("tenant",)
    search_fields = ("name",)
    # What syncs write; a sync that holds the source owns them.
    readonly_fields = ("status", "last_synced_at", "last_sync_summary", "error", "sync_started_at")
    actions = ("sync_now",)

    def get_readonly_fields(self, request: HttpRequest, obj: KnowledgeSource | None = None) -> tuple[str, ...]:
        # A source's documents came in its kind's way (uploads, a website's pages); another kind
        # would prune or sync them as what they are not. They stay in its tenant: moved, the source
        # would hold another tenant's documents, and deleting it would cascade them past the
        # services that keep that tenant's BM25 statistics.
        readonly = tuple(super().get_readonly_fields(request, obj))
        if self._path_hidden(request, obj):
            readonly = (*readonly, "settings")
        return (*readonly, "tenant", "kind") if obj is not None else readonly

    def get_exclude(self, request: HttpRequest, obj: KnowledgeSource | None = None) -> Any:
        exclude = tuple(super().get_exclude(request, obj) or ())
        return (*exclude, "config") if self._path_hidden(request, obj) else exclude

    @staticmethod
    def _path_hidden(request: HttpRequest, obj: KnowledgeSource | None) -> bool:
        """Whether the source's settings show without its path: a folder source's path is the
        server's, which superusers run ``ingest`` on and tenants' staff never see (nor set)."""
        return obj is not None and obj.kind != SourceKind.URL and not request.user.is_superuser

    @admin.display(description="config")
    def settings(self, obj: KnowledgeSource) -> str:
        return json.dumps(tenant_visible_config(obj.config))

    def changeform_view(
        self, request: HttpRequest, object_id: str | None = None, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except NameTaken:
            # Another request saved the name after this form checked it, and has committed (the
            # write waited for it); everything this one did was rolled back. Answered again, the
            # form's own check finds the name taken and says so, as the console and the API do.
            return super().changeform_view(request, object_id, form_url, extra_context)

    def save_model(self, request: HttpRequest, obj: KnowledgeSource, form: Any, change: bool) -> None:
        """A change writes only the fields the form changed: a sync that claimed the source since it
        was read keeps its claim, status and results (as ``url_source_update`` leaves them). A website
        source added here has its first sync queued as ``url_source_create`` queues it; changed
        settings are read by its next sync, as the console's settings form leaves them without
        "Sync now" (the ``sync_now`` action is that button here)."""
        self.check_tenant_managed(request, obj)
        with name_kept_unique(obj.name):
            obj.save(update_fields=form.changed_data if change else None)
        if obj.kind != SourceKind.URL:
            return
        if not change:
            source_sync_enqueue(tenant=obj.tenant, source=obj)  # a new source: no sync can hold it yet
            self.message_user(request, f"Added {obj.name}: {FIRST_SYNC_QUEUED}")
        elif "config" in form.changed_data:
            self.message_user(
                request,
                f"Saved the settings of {obj.name}; {NEXT_SYNC_USES_SETTINGS} "
                f'To read the site with them now, use the action "{SYNC_NOW_ACTION}".',
            )

    @admin.action(description=SYNC_NOW_ACTION)
    def sync_now(self, request: HttpRequest, queryset: QuerySet[KnowledgeSource]) -> None:
        queued = running = 0
        with transaction.atomic():  # the syncs are queued when this commits
            for source in queryset.select_related("tenant"):
                if source.kind != SourceKind.URL or not self.has_change_permission(request, source):
                    continue
                try:
                    source_sync_enqueue(tenant=source.tenant, source=source)
                except SyncRunning:
                    running += 1
                else:
                    queued += 1
        busy = f" {running} were already syncing." if running else ""
        self.message_user(request, f"Sync queued for {queued} URL sources.{busy}")

    def get_deleted_objects(self, objs: Iterable[KnowledgeSource], request: HttpRequest) -> DeletedObjects:
        sources = list(objs)
        pks = [source.pk for source in sources]
        documents = Document.objects.filter(source_id__in=pks).order_by().values_list("source_id")
        chunks = Chunk.objects.filter(document__source_id__in=pks).order_by().values_list("document__source_id")
        per_source = dict(documents.annotate(n=Count("pk")))
        chunks_per_source = dict(chunks.annotate(n=Count("pk")))
        held = {pk: {"documents": per_source.get(pk, 0), "chunks": chunks_per_source.get(pk, 0)} for pk in pks}
        return _deletion_summed(self, request, sources, held)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        # A source a sync is running on can be deleted once the sync has finished, as in the console.
        if isinstance(obj, KnowledgeSource) and sync_running(source=obj):
            return False
        return super().has_delete_permission(request, obj)

    def delete_model(self, request: HttpRequest, obj: KnowledgeSource) -> None:
        self._delete(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[KnowledgeSource]) -> None:
        for source in queryset.select_related("tenant"):
            self._delete(request, source)

    def _delete(self, request: HttpRequest, source: KnowledgeSource) -> None:
        """Claimed first, as a sync claims it (``sources.knowledge_source_delete``): a sync started
        since the page was shown keeps its source, and the staff member is told."""
        try:
            knowledge_source_delete(tenant=source.tenant, source=source)
        except SourceConfigError as exc:
            self.message_user(request, f"{source.name}: {exc}", level=messages.ERROR)


class DocumentForm(forms.ModelForm):
    """A language is checked and stored as uploads store one (``clean_language``): "EN_us" is
    saved as "en-US", and what is no language is refused with the upload's message."""

    class Meta:
        model = Document
        # What DocumentAdmin leaves editable (the rest is read-only there).
        fields = ("url", "language", "http_etag", "http_last_modified", "fetched_at", "links")

    def clean_language(self) -> str:
        try:
            return languages.clean_language(self.cleaned_data["language"])
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from exc


@admin.register(Document)
class DocumentAdmin(TenantScopedModelAdmin):
    """Documents come in through uploads, the API and source syncs, which index them. Saving a form
    here does not, so what chunks, embeddings and BM25 statistics are made of (title, content) and
    what places the document (tenant, source, external id) are read-only, and there is no add page;
    the address and the crawl's validators stay editable (read as they are, never indexed), and so
    does the language (``DocumentForm``), whose stemming takes effect at the next re-index (the action below or
    ``manage.py reindex``, which picks up documents whose ``search_config`` no longer matches)."""

    form = DocumentForm
    list_display = ("title", "tenant", "source", "status", "chunk_count", "embedding_model", "updated_at")
    list_filter = ("status", "language")
    list_select_related = ("tenant", "source")
    search_fields = ("title", "external_id", "url")
    readonly_fields = (
        "tenant",
        "source",
        "external_id",
        "title",
        "content",
        "content_hash",
        "status",
        "error",
        "chunk_count",
        "embedding_model",
        "search_config",
        "indexed_at",
        "updated_at",
        "aliases",  # the crawl's own bookkeeping: which addresses redirected to the page
    )
    actions = ("reindex",)

    def has_add_permission(self, request: HttpRequest, *args: object) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Document, form: Any, change: bool) -> None:
        # Only what the form changed is written: indexing may have updated the status, chunk count
        # and text-search configuration since the form was read, and writing that copy back would
        # leave the BM25 statistics counting the document's chunks under another configuration.
        self.check_tenant_managed(request, obj)
        obj.save(update_fields=form.changed_data)

    def get_deleted_objects(self, objs: Iterable[Document], request: HttpRequest) -> DeletedObjects:
        documents = list(objs)
        pks = [document.pk for document in documents]
        chunks = Chunk.objects.filter(document_id__in=pks).order_by().values_list("document_id")
        chunks_per_document = dict(chunks.annotate(n=Count("pk")))
        held = {pk: {"chunks": chunks_per_document.get(pk, 0)} for pk in pks}
        return _deletion_summed(self, request, documents, held)

    def delete_model(self, request: HttpRequest, obj: Document) -> None:
        # Through the service, so BM25 statistics and postings leave with the chunks.
        document_delete(tenant=obj.tenant, document=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Document]) -> None:
        for tenant in Tenant.objects.filter(pk__in=queryset.values("tenant_id")):
            documents_delete(tenant=tenant, document_ids=queryset.filter(tenant=tenant).values_list("pk", flat=True))

    @admin.action(description="Re-chunk and re-embed the selected documents")
    def reindex(self, request: HttpRequest, queryset: QuerySet[Document]) -> None:
        allowed: dict[Tenant, list[int]] = {}
        for document in queryset.select_related("tenant"):
            if self.has_change_permission(request, document):
                allowed.setdefault(document.tenant, []).append(document.pk)
        queued = sum(documents_reindex_enqueue(tenant=tenant, document_ids=ids) for tenant, ids in allowed.items())
        self.message_user(
            request, f"Re-indexing {queued} documents in the background; each shows pending until it is done."
        )


CHUNKS_LEAVE_WITH_DOCUMENTS = "Chunks are deleted with their document; delete the document instead."


@admin.register(Chunk)
class ChunkAdmin(TenantScopedModelAdmin):
    """Read-only: chunks are written and deleted with their document by the indexing services, which
    keep the BM25 statistics and postings in step (a chunk deleted here left both counting it).
    The delete permission stays, so that deleting a document or source may list its chunks."""

    list_display = ("__str__", "tenant", "document", "level", "token_count")
    list_filter = ("level",)
    list_select_related = ("tenant", "document")
    search_fields = ("text",)
    readonly_fields = ("document", "parent", "level", "ordinal", "text", "token_count", "char_start", "char_end")
    exclude = ("embedding", "search_vector")

    def has_add_permission(self, request: HttpRequest, *args: object) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def delete_view(self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None) -> Any:
        raise PermissionDenied(CHUNKS_LEAVE_WITH_DOCUMENTS)


@admin.register(RetrievalTuning)
class RetrievalTuningAdmin(TenantScopedModelAdmin):
    """Set by ``manage.py tune_retrieval --apply``; owners/admins may edit the scale or delete the row
    (back to the defaults)."""

    list_display = ("tenant", "keyword_scale", "queries", "ndcg_default", "ndcg_tuned", "tuned_at")
    readonly_fields = ("queries", "ndcg_default", "ndcg_tuned", "tuned_at")
