"""Console pages: sources and documents (with upload and website sources), and a "test retrieval" box."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from typing import Any, cast
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods, require_POST

from knowledge import conf
from knowledge.languages import (
    DEFAULT_LANGUAGE,
    ISO_639_1_CODES,
    LANGUAGE_MAX_LENGTH,
    NOT_A_LANGUAGE,
    SEARCH_CONFIGS,
    clean_language,
)
from knowledge.models import Document, DocumentStatus, KnowledgeSource, SourceKind
from knowledge.multipart import PartCountingUploadHandler, RequestSizeUploadHandler, UploadRequestTooLarge
from knowledge.paging import IdsFirstPaginator
from knowledge.providers.base import ProviderError
from knowledge.retrieval import EMBEDDING_UNAVAILABLE, MODES, public_reason
from knowledge.selectors import (
    child_sections_get,
    chunk_document_id_get,
    chunk_place_get,
    chunk_totals,
    document_get,
    document_list,
    document_page_get,
    document_status_get,
    parent_chunk_list,
    retrieve_explained,
    source_get,
    source_list_with_totals,
    source_totals,
    url_source_get,
)
from knowledge.services import Outcome, SourceKindError, document_delete, documents_reindex_enqueue
from knowledge.source_config import (
    DEFAULT_MAX_DEPTH,
    DEFAULT_MAX_PAGES,
    FIRST_SYNC_QUEUED,
    NAME_MAX_LENGTH,
    NEXT_SYNC_USES_SETTINGS,
    PREFIX_MAX_LENGTH,
    URL_MAX_LENGTH,
    SourceConfigError,
    SyncRunning,
    source_sync_enqueue,
    url_source_create,
    url_source_update,
)
from knowledge.sources import knowledge_source_delete
from knowledge.timeouts import RETRIEVAL_TIMED_OUT, RetrievalTimedOut
from knowledge.types import Passage
from knowledge.uploads import UploadResult, files_upload, upload_request_max_bytes
from supportai.bidi import isolate
from supportai.console.tenancy import (
    TENANT_FIELD,
    TENANT_SWITCHED,
    console_memberships,
    require_manager,
    require_membership,
    switched_since_rendered,
)
from supportai.ids import id_from_text
from supportai.models import Membership

PAGE_SIZE = 50
PARENTS_PER_PAGE = 25
# A chunk's text longer than this shows its start, the rest behind a <details> the reader opens.
PREVIEW_CHARS = 300
CHUNK_GONE = (
    "That passage is no longer in this document: a re-index has replaced its chunks since. Its chunks now are these."
)
CHUNK_NOT_AN_ID = "The link names no chunk (its chunk is not a chunk id). The document's chunks are these."
SAVED_WHILE_SYNCING = "a sync is running with the old ones; press Sync now when it has finished."
# The browser empties the file input when the page comes back with this.
# After why an upload's body could not be taken as parsed (``PartCountingUploadHandler.problem``).
CHOOSE_AGAIN = "Choose the files again."
# The problem of an upload source marked failed (``source_mark_synced``), which records no error of its own.
NO_FILE_READ = "No file of its last upload could be read; the upload reported each file's error."
NOT_MANAGER = "Only owners and admins can change knowledge (uploads, sources, syncs)."
REINDEX_QUEUED = (
    "Re-index of {title} queued: it shows as Pending until its new chunks are in; "
    "answers use the current ones meanwhile."
)
# A re-index that ran before the page was answered (Celery eager: local development, no broker).
REINDEXED = "Re-indexed {title}: {chunks} chunk{s}; answers use them now."
REINDEX_FAILED = "Re-index of {title} failed: {error}"
NOTHING_TO_REINDEX = (
    "{title} has no text to index: its page could not be fetched. Sync now on its source fetches it again."
)
# A page about one of the tenant's sources or documents, posted once the console has switched to
# another tenant (``switched_since_rendered``): what it is about belongs to the tenant it was opened for.
SWITCHED_FROM_ITS_TENANT = (
    "Nothing was {done}: the console switched to {tenant} since this page was opened (in another tab?), "
    "and what it was about is another tenant's. Switch back to that tenant, then try again."
)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


def _any_case(word: str) -> str:
    return "".join(f"[{char.upper()}{char}]" if char.isalpha() else re.escape(char) for char in word)


# What ``clean_language`` accepts, for the browser to check before it sends the files: refused by
# the server, the upload would make the user choose them all again.
LANGUAGE_PATTERN = (
    r"\s*(?:(?:"
    + "|".join(_any_case(code) for code in sorted(ISO_639_1_CODES))
    + r"|(?!(?:"
    + "|".join(_any_case(code) for code in sorted(NOT_A_LANGUAGE))
    + r")(?![A-Za-z]))[A-Za-z]{3})(?:[\-_][A-Za-z0-9]{1,8})*|"
    + "|".join(_any_case(name) for name in sorted(SEARCH_CONFIGS))
    + r")\s*"
)


class UploadForm(forms.Form):
    # Its hint (the page's, naming the site's file limit) is read with it.
    upload = forms.FileField(
        label="Files", widget=MultipleFileInput(attrs={"multiple": True, "aria-describedby": "id_upload_helptext"})
    )
    language = forms.CharField(
        label="Language of files that declare none",
        initial=DEFAULT_LANGUAGE,
        max_length=LANGUAGE_MAX_LENGTH,
        required=False,
        help_text="A tag such as en, de or pt-BR; it chooses their stemming for keyword search.",
        widget=forms.TextInput(
            attrs={"pattern": LANGUAGE_PATTERN, "title": "A language tag such as en, de or pt-BR, or a name: German"}
        ),
    )


def _url_input() -> forms.TextInput:
    # Not type="url": the browser's own check would hide our message for "help.example.com".
    return forms.TextInput(attrs={"inputmode": "url", "placeholder": "https://help.example.com/"})


class UrlSourceForm(forms.Form):
    """A website source's name and settings. Only types and sizes are checked here; the rules are
    those of ``url_source_create`` / ``url_source_update`` (the REST API's too), whose
    ``SourceConfigError`` lands on the field it names (``add_config_error``)."""

    CONFIG_FIELDS = ("start_url", "sitemap_url", "path_prefix", "max_pages", "max_depth", "sync_interval_minutes")

    name = forms.CharField(max_length=NAME_MAX_LENGTH)
    start_url = forms.CharField(
        label="Start URL",
        max_length=URL_MAX_LENGTH,
        required=False,
        widget=_url_input(),
        help_text="Crawl from this page, following links on the same host. Set this or a sitemap URL.",
    )
    sitemap_url = forms.CharField(
        label="Sitemap URL",
        max_length=URL_MAX_LENGTH,
        required=False,
        widget=_url_input(),
        help_text="Or read the pages listed in this sitemap.xml.",
    )
    path_prefix = forms.CharField(
        label="Path prefix",
        max_length=PREFIX_MAX_LENGTH,
        required=False,
        help_text="Only pages under this path, e.g. /help/. Empty: the whole host.",
    )
    max_pages = forms.IntegerField(
        label="Max pages", required=False, help_text=f"Empty: {DEFAULT_MAX_PAGES} (or the site-wide ceiling)."
    )
    max_depth = forms.IntegerField(
        label="Max link depth", required=False, help_text=f"Crawls only. Empty: {DEFAULT_MAX_DEPTH}."
    )
    sync_interval_minutes = forms.IntegerField(
        label="Resync every (minutes)", required=False, help_text="0: only on demand. Empty: the default."
    )
    sync_now = forms.BooleanField(label="Sync now", required=False)

    def config(self) -> dict[str, Any]:
        """The filled-in settings; an empty field takes the service's default."""
        return {key: value for key in self.CONFIG_FIELDS if (value := self.cleaned_data.get(key)) not in (None, "")}

    def add_config_error(self, exc: SourceConfigError) -> None:
        """``exc`` on the field it names, else on the form. Its message, written for the REST API,
        names settings by key ("max_depth must be ..."): here by the labels the form shows ("Max
        link depth must be ..."). A field's own error echoes the value typed, so only its leading
        key is replaced; a rule about several settings echoes none, so each key it names is."""
        message = str(exc)
        if exc.field in self.fields:
            if message.startswith(f"{exc.field} "):
                message = f"{self[exc.field].label}{message.removeprefix(exc.field)}"
            self.add_error(exc.field, message)
            return
        for key in self.CONFIG_FIELDS:
            message = re.sub(rf"\b{key}\b", str(self[key].label), message)
        self.add_error(None, message)


class DocumentFilterForm(forms.Form):
    """The documents table's filters (a GET form); a value that is no choice (another tenant's source
    id, no such status) filters nothing."""

    status = forms.ChoiceField(choices=[("", "Any"), *DocumentStatus.choices], required=False)
    source = forms.TypedChoiceField(coerce=int, empty_value=None, required=False)

    def __init__(self, data: QueryDict, *, sources: Iterable[KnowledgeSource]) -> None:
        super().__init__(data)
        source_field = cast(forms.TypedChoiceField, self.fields["source"])
        source_field.choices = [("", "Any"), *((source.pk, source.name) for source in sources)]

    def chosen(self) -> dict[str, Any]:
        """The valid filters that are set, by name."""
        self.is_valid()
        return {name: value for name, value in self.cleaned_data.items() if value not in (None, "")}


# What the box says when hybrid search answered without a retriever (``ExplainedPassages.went_without``):
# its results are the other's alone, and finding none says nothing of what the failed one would find.
WENT_WITHOUT = {
    "dense": "Dense search was unavailable: {reason} These are keyword results only.",
    "bm25": "Keyword search was unavailable: {reason} These are dense results only.",
}
NOTHING_FOUND_WITHOUT = {
    "dense": "Keyword search found no passage; dense search, which finds paraphrases, was unavailable.",
    "bm25": "Dense search found no passage; keyword search was unavailable.",
}
NOTHING_FOUND = "No passages matched."
# Hybrid search raises only when neither retriever answered (``search_candidates``' fallback).
NEITHER_ANSWERED = "Neither keyword nor dense search could answer, so there are no passages to show. {reason}"


def score_name(passage: Passage) -> str:
    """What a test-retrieval passage's score is: the reranker's, else the fusion of the retrievers
    that ran (its ``ranks`` name them), else the one retriever's own."""
    if "rerank" in passage.ranks:
        return "rerank score"
    (only, *others) = passage.ranks
    return "fused score" if others else f"{only} score"


QUERY_MAX_CHARS = 2000
QUERY_TOO_LONG = (
    "The query has {length:,} characters; test retrieval takes up to {limit:,}. Shorten it and search again."
)


class SearchForm(forms.Form):
    # No max_length: its maxlength attribute made the browser cut a longer query (a pasted e-mail)
    # unseen, and search with its start; ``clean_q`` refuses it whole, saying so.
    q = forms.CharField(label="Query")
    mode = forms.ChoiceField(choices=[(mode, mode) for mode in MODES], initial="hybrid")
    k = forms.IntegerField(label="Passages to show", min_value=1, max_value=20, initial=5)

    def clean_q(self) -> str:
        query: str = self.cleaned_data["q"]
        if len(query) > QUERY_MAX_CHARS:
            raise forms.ValidationError(QUERY_TOO_LONG.format(length=len(query), limit=QUERY_MAX_CHARS))
        return query


# A file giving more documents than this (a CSV FAQ, a corpus) is summed up by outcome, not listed.
LISTED_DOCUMENTS = 10


def _outcomes_said(result: UploadResult) -> str:
    """What became of a read file's documents: each by title, or their count per outcome when many."""
    if len(result.documents) <= LISTED_DOCUMENTS:
        return ", ".join(f"{isolate(d.title)}: {d.outcome}" for d in result.documents)
    counts = Counter(d.outcome for d in result.documents)
    per_outcome = ", ".join(f"{counts[outcome]} {outcome}" for outcome in Outcome if counts[outcome])
    return f"{len(result.documents)} documents: {per_outcome}"


@csrf_exempt
def documents(request: HttpRequest) -> HttpResponse:
    """The sources and documents, with the upload form. The upload's parts are counted as its body is
    read (``PartCountingUploadHandler``), so the handler is added before the CSRF check reads it; an
    upload over the request's limit is refused before it is read (``RequestSizeUploadHandler``)."""
    counted = PartCountingUploadHandler(request)
    request.upload_handlers.insert(0, counted)
    request.upload_handlers.insert(0, RequestSizeUploadHandler(request))
    try:
        return _documents(request, counted)
    except UploadRequestTooLarge as exc:  # raised as the body is first read: nothing was stored
        return _upload_too_large(request, str(exc))


@login_required
def _upload_too_large(request: HttpRequest, problem: str) -> HttpResponse:
    """The documents page, its form saying the upload was over the request's limit (413). Its CSRF
    token is in the body left unread: the page changes nothing, so it is shown to members without it."""
    membership = require_membership(request)
    if not membership.can_manage:
        raise PermissionDenied(NOT_MANAGER)
    form = UploadForm({"language": DEFAULT_LANGUAGE})  # bound, to hold the error; the body's own is unread
    form.add_error(None, problem)
    response = _documents_page(request, membership, form)
    response.status_code = 413
    return response


@csrf_protect
@login_required
def _documents(request: HttpRequest, counted: PartCountingUploadHandler) -> HttpResponse:
    membership = require_membership(request)
    tenant = membership.tenant
    if request.method == "POST":
        if not membership.can_manage:
            raise PermissionDenied(NOT_MANAGER)
        if switched_since_rendered(request, tenant):
            messages.error(request, TENANT_SWITCHED.format(done="uploaded", tenant=tenant.name))
            return redirect("knowledge_console:documents")
        if counted.problem:
            form = UploadForm(request.POST)
            form.add_error(None, f"{counted.problem} {CHOOSE_AGAIN}")
            return _documents_page(request, membership, form)
        uploads = request.FILES.getlist("upload")
        if not uploads:
            messages.error(request, "Choose at least one file to upload.")
            return redirect("knowledge_console:documents")
        try:
            language = clean_language(request.POST.get("language") or DEFAULT_LANGUAGE)
        except ValueError as exc:
            messages.error(request, f"Nothing was uploaded: {exc}.")
            return redirect("knowledge_console:documents")
        try:
            uploaded = files_upload(tenant=tenant, files=uploads, default_language=language)
        except SourceKindError as exc:
            messages.error(request, f"Nothing was uploaded: {exc}")
            return redirect("knowledge_console:documents")
        for result in uploaded:
            if result.file.error:
                messages.error(request, f"{isolate(result.file.name)}: {result.file.error}")
            else:
                outcomes = _outcomes_said(result)
                if result.file.removed:
                    outcomes += f"; {result.file.removed} no longer in the file, removed"
                if result.file.kept:
                    outcomes += (
                        f"; {result.file.kept} no longer in the file, kept because another file of this upload "
                        f"has errors: upload {isolate(result.file.name)} again once they are fixed"
                    )
                if result.file.note:
                    outcomes += f"; {result.file.note}"
                messages.success(request, f"{isolate(result.file.name)}: {outcomes}")
        return redirect("knowledge_console:documents")
    return _documents_page(request, membership, UploadForm())


def _documents_page(request: HttpRequest, membership: Membership, form: UploadForm) -> HttpResponse:
    """The documents page of the membership's tenant, its upload form ``form``."""
    tenant = membership.tenant
    sources = source_list_with_totals(tenant=tenant)
    filters = DocumentFilterForm(request.GET, sources=sources)
    chosen = filters.chosen()
    source = next((candidate for candidate in sources if candidate.pk == chosen.get("source")), None)
    listed = document_list(tenant=tenant, source=source, status=chosen.get("status"))
    page = IdsFirstPaginator(listed, PAGE_SIZE).get_page(request.GET.get("page"))
    at_page = {"page": page.number} if page.number > 1 else {}
    context = {
        "tenant": tenant,
        "sources": sources,
        "filters": filters,
        "filter_query": urlencode(chosen),
        # Where a delete page opened from this one leads back to (``_documents_url``).
        "list_query": urlencode({**chosen, **at_page}),
        "page": page,
        "form": form,
        "max_files": settings.DATA_UPLOAD_MAX_NUMBER_FILES,
        "max_upload_bytes": conf.SETTINGS.max_upload_bytes,
        "max_upload_request_bytes": upload_request_max_bytes(),
        "can_manage": membership.can_manage,
        "no_file_read": NO_FILE_READ,
    }
    return render(request, "knowledge/documents.html", context)


@login_required
@require_POST
def source_sync(request: HttpRequest, pk: int) -> HttpResponse:
    """ "Sync now" for a URL source of the current tenant (another tenant's id is a 404)."""
    membership = require_membership(request)
    if switched := _switched_away(request, membership, done="queued"):
        return switched
    source = source_get(tenant=membership.tenant, pk=pk)
    if not membership.can_manage:
        raise PermissionDenied(NOT_MANAGER)
    try:
        source_sync_enqueue(tenant=membership.tenant, source=source)
    except SourceConfigError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Sync of {isolate(source.name)} queued; refresh to see its status.")
    return redirect("knowledge_console:documents")


@login_required
@require_http_methods(["GET", "POST"])
def url_source_new(request: HttpRequest) -> HttpResponse:
    """Add a website source; "Sync now" (ticked by default) queues its first sync as the button does."""
    tenant = require_manager(request, NOT_MANAGER).tenant
    form = UrlSourceForm(request.POST or None, initial={"sync_now": True})
    if request.method == "POST" and switched_since_rendered(request, tenant):
        form.add_error(None, TENANT_SWITCHED.format(done="added", tenant=tenant.name))
    elif request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            source = url_source_create(
                tenant=tenant, name=data["name"], config=form.config(), sync_now=data["sync_now"]
            )
        except SourceConfigError as exc:
            form.add_config_error(exc)
        else:
            then = FIRST_SYNC_QUEUED if data["sync_now"] else "use Sync now to read it."
            messages.success(request, f"Added {isolate(source.name)}: {then}")
            return redirect("knowledge_console:documents")
    return render(request, "knowledge/source_form.html", {"tenant": tenant, "form": form, "source": None})


def _switched_away(request: HttpRequest, membership: Membership, *, done: str) -> HttpResponse | None:
    """The documents page saying nothing was ``done`` when a page about one of a tenant's sources or
    documents was posted after the console switched to another tenant (``switched_since_rendered``),
    before the source or document is looked up in the tenant switched to (a 404); None otherwise."""
    if request.method != "POST" or not switched_since_rendered(request, membership.tenant):
        return None
    messages.error(request, SWITCHED_FROM_ITS_TENANT.format(done=done, tenant=membership.tenant.name))
    return redirect("knowledge_console:documents")


def _source_of_switched_page(request: HttpRequest, pk: int) -> KnowledgeSource:
    """The website source ``pk`` of the tenant its page was opened for (the posted tenant): one of
    the user's tenants, else a 404 as for another tenant's source; a 403 unless the user manages it."""
    opened_for = id_from_text(request.POST.get(TENANT_FIELD, ""))
    membership = next((m for m in console_memberships(request) if m.tenant_id == opened_for), None)
    if membership is None:
        raise Http404("No such website source.")
    source = url_source_get(tenant=membership.tenant, pk=pk)
    if not membership.can_manage:
        raise PermissionDenied(NOT_MANAGER)
    return source


@login_required
@require_http_methods(["GET", "POST"])
def url_source_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Settings of the current tenant's website source (another tenant's id is a 404). Saved after the
    console switched to another tenant, the page is shown again as it was opened, with the input and
    why nothing was saved, so that it can be saved once the console is switched back."""
    membership = require_membership(request)
    if request.method == "POST" and switched_since_rendered(request, membership.tenant):
        source = _source_of_switched_page(request, pk)
        form = UrlSourceForm(request.POST)
        form.add_error(None, SWITCHED_FROM_ITS_TENANT.format(done="saved", tenant=membership.tenant.name))
        context = {"tenant": source.tenant, "form": form, "source": source}
        return render(request, "knowledge/source_form.html", context)
    source = url_source_get(tenant=membership.tenant, pk=pk)
    if not membership.can_manage:
        raise PermissionDenied(NOT_MANAGER)
    form = UrlSourceForm(request.POST or None, initial={"name": source.name, **source.config})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            url_source_update(tenant=membership.tenant, source=source, name=data["name"], config=form.config())
            if data["sync_now"]:
                source_sync_enqueue(tenant=membership.tenant, source=source)
        except SyncRunning:
            messages.warning(request, f"Saved the settings of {isolate(source.name)}; {SAVED_WHILE_SYNCING}")
            return redirect("knowledge_console:documents")
        except SourceConfigError as exc:
            form.add_config_error(exc)
        else:
            then = " and queued a sync." if data["sync_now"] else f"; {NEXT_SYNC_USES_SETTINGS}"
            messages.success(request, f"Saved the settings of {isolate(source.name)}{then}")
            return redirect("knowledge_console:documents")
    context = {"tenant": membership.tenant, "form": form, "source": source}
    return render(request, "knowledge/source_form.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def url_source_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks for confirmation; only POST deletes the source with its documents and chunks."""
    membership = require_membership(request)
    if switched := _switched_away(request, membership, done="deleted"):
        return switched
    source = url_source_get(tenant=membership.tenant, pk=pk)
    if not membership.can_manage:
        raise PermissionDenied(NOT_MANAGER)
    if request.method == "POST":
        try:
            removed = knowledge_source_delete(tenant=membership.tenant, source=source)
        except SourceConfigError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"Deleted {isolate(source.name)} and its {removed} document{pluralize(removed)}.")
        return redirect("knowledge_console:documents")
    documents, chunks = source_totals(tenant=membership.tenant, source=source)
    context = {"tenant": membership.tenant, "source": source, "documents": documents, "chunks": chunks}
    return render(request, "knowledge/source_confirm_delete.html", context)


# The documents page's own parameters: its filters (``DocumentFilterForm``) and page.
LIST_PARAMETERS = ("status", "source", "page")


def _documents_url(query: QueryDict) -> str:
    """The documents page at the filters and page of ``query``, those of the list a delete page was
    opened from, so that the way back (Cancel, or after the delete) is to that list; only the list's
    own parameters are kept, as values of its query."""
    kept = {name: query[name] for name in LIST_PARAMETERS if query.get(name)}
    documents = reverse("knowledge_console:documents")
    return f"{documents}?{urlencode(kept)}" if kept else documents


@login_required
@require_http_methods(["GET", "POST"])
def document_delete_page(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks for confirmation; only POST deletes the document with its chunks."""
    membership = require_membership(request)
    if switched := _switched_away(request, membership, done="deleted"):
        return switched
    document = document_get(tenant=membership.tenant, pk=pk)
    if not membership.can_manage:
        raise PermissionDenied(NOT_MANAGER)
    back = _documents_url(request.GET)
    if request.method == "POST":
        document_delete(tenant=membership.tenant, document=document)
        messages.success(request, f"Deleted {isolate(document.title)}.")
        return redirect(back)
    from_website = document.source.kind == SourceKind.URL
    context = {"tenant": membership.tenant, "document": document, "from_website": from_website, "back": back}
    return render(request, "knowledge/document_confirm_delete.html", context)


@login_required
@require_POST
def document_reindex(request: HttpRequest, pk: int) -> HttpResponse:
    """Re-index one of the tenant's documents from scratch (``documents_reindex_enqueue``), for owners
    and admins; another tenant's id is a 404."""
    membership = require_membership(request)
    document = document_status_get(tenant=membership.tenant, pk=pk)
    if not membership.can_manage:
        raise PermissionDenied(NOT_MANAGER)
    if documents_reindex_enqueue(tenant=membership.tenant, document_ids=[document.pk]):
        messages.add_message(request, *_reindex_said(document_status_get(tenant=membership.tenant, pk=pk)))
    else:
        messages.error(request, NOTHING_TO_REINDEX.format(title=isolate(document.title)))
    return redirect("knowledge_console:document", pk=document.pk)


def _reindex_said(document: Document) -> tuple[int, str]:
    """The message level and text of a re-index, by the document's status once it was handed on:
    pending while a worker has it queued; ready or failed when it already ran in-process (Celery
    eager, or a worker that was that quick)."""
    title = isolate(document.title)
    if document.status == DocumentStatus.READY:
        chunks = document.chunk_count
        return messages.SUCCESS, REINDEXED.format(title=title, chunks=chunks, s="" if chunks == 1 else "s")
    if document.status == DocumentStatus.FAILED:
        return messages.ERROR, REINDEX_FAILED.format(title=title, error=document.error)
    return messages.SUCCESS, REINDEX_QUEUED.format(title=title)


class CountedPaginator(Paginator):
    """A ``Paginator`` of a list whose length the caller has already read, so paging it runs no COUNT."""

    def __init__(self, object_list: Any, per_page: int, *, count: int) -> None:
        super().__init__(object_list, per_page)
        self._count = count

    @property
    def count(self) -> int:
        return self._count


def _chunk_id(query: QueryDict) -> int | None:
    """The chunk a link points to (``?chunk=<id>``, a test-retrieval passage), as an id; None when
    it is no id (``id_from_text``, or 0)."""
    return id_from_text(query.get("chunk", "")) or None


@login_required
def document_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """What indexing made of one of the tenant's documents: its facts, then its parent chunks in
    order with their children, a page of parents at a time; ``?chunk=<id>`` shows the page holding
    that chunk with it open; a chunk of another of the tenant's documents leads to that document's
    page. Every member reads it, as the documents list."""
    membership = require_membership(request)
    tenant = membership.tenant
    document = document_page_get(tenant=tenant, pk=pk)
    page_number = request.GET.get("page")
    place = None
    if "chunk" in request.GET:
        chunk_id = _chunk_id(request.GET)
        place = chunk_place_get(tenant=tenant, document=document, chunk_id=chunk_id) if chunk_id else None
        if chunk_id is None:
            messages.warning(request, CHUNK_NOT_AN_ID)
        elif place is None:
            holder = chunk_document_id_get(tenant=tenant, chunk_id=chunk_id)
            if holder is not None:
                detail = reverse("knowledge_console:document", args=[holder])
                return redirect(f"{detail}?chunk={chunk_id}#chunk-{chunk_id}")
            messages.warning(request, CHUNK_GONE)
        else:
            page_number = str(place.position // PARENTS_PER_PAGE + 1)
    parents = parent_chunk_list(tenant=tenant, document=document)
    totals = chunk_totals(tenant=tenant, document=document)
    page = CountedPaginator(parents, PARENTS_PER_PAGE, count=totals.parents).get_page(page_number)
    children = [child for parent in page for child in parent.children.all()]
    sections = child_sections_get(tenant=tenant, document=document, children=children)
    context = {
        "tenant": tenant,
        "document": document,
        "totals": totals,
        "page": page,
        # Each parent of the page with its children, each with the section it was indexed under.
        "rows": [(parent, [(child, sections.get(child.pk, "")) for child in parent.children.all()]) for parent in page],
        "open_parent_id": place.parent_id if place else None,
        "preview_chars": PREVIEW_CHARS,
        "can_manage": membership.can_manage,
    }
    return render(request, "knowledge/document_detail.html", context)


def _search_input(query: QueryDict) -> dict[str, Any] | None:
    """The box's inputs from the query string, the mode and k the form shows filled in where a
    link (``?q=refund``) leaves them out; None (an empty box) without a query."""
    if "q" not in query:
        return None
    defaults = {name: field.initial for name, field in SearchForm.base_fields.items() if field.initial is not None}
    return {**defaults, **query.dict()}


@login_required
def search(request: HttpRequest) -> HttpResponse:
    membership = require_membership(request)
    form = SearchForm(_search_input(request.GET))
    passages = []
    weighing = None
    went_without: dict[str, str] = {}
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        try:
            found = retrieve_explained(tenant=membership.tenant, query=data["q"], k=data["k"], mode=data["mode"])
        except ProviderError as exc:
            if data["mode"] == "hybrid":
                form.add_error(None, NEITHER_ANSWERED.format(reason=public_reason(exc)))
            else:
                form.add_error(None, EMBEDDING_UNAVAILABLE.format(reason=exc.public_message))
        except RetrievalTimedOut:
            reason = f"{RETRIEVAL_TIMED_OUT}."
            form.add_error(None, NEITHER_ANSWERED.format(reason=reason) if data["mode"] == "hybrid" else reason)
        else:
            passages, weighing, went_without = found.passages, found.weighing, found.went_without
    context = {
        "tenant": membership.tenant,
        "form": form,
        "passages": passages,
        "scored_passages": [(passage, score_name(passage)) for passage in passages],
        "weighing": weighing,
        "went_without": went_without,
        "notices": [WENT_WITHOUT[name].format(reason=reason) for name, reason in went_without.items()],
        "nothing_found": " ".join(NOTHING_FOUND_WITHOUT[name] for name in went_without) or NOTHING_FOUND,
    }
    return render(request, "knowledge/search.html", context)
