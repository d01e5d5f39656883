"""Console pages for documents: the sources and documents list with the upload form, a document's chunks,
its re-index and removal. Website sources are in ``console_sources``, test retrieval in ``console_search``."""

from __future__ import annotations

from collections import Counter
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods, require_POST

from knowledge import conf
from knowledge.console_access import NOT_MANAGER, switched_away
from knowledge.console_forms import DocumentFilterForm, UploadForm
from knowledge.languages import DEFAULT_LANGUAGE, clean_language
from knowledge.models import Document, DocumentStatus, SourceKind
from knowledge.multipart import PartCountingUploadHandler, RequestSizeUploadHandler, UploadRequestTooLarge
from knowledge.paging import IdsFirstPaginator
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
    source_list_with_totals,
)
from knowledge.services import Outcome, SourceKindError, document_delete, documents_reindex_enqueue
from knowledge.uploads import UploadResult, files_upload, upload_request_max_bytes
from supportai.bidi import isolate
from supportai.console.tenancy import TENANT_SWITCHED, require_membership, switched_since_rendered
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
# The browser empties the file input when the page comes back with this.
# After why an upload's body could not be taken as parsed (``PartCountingUploadHandler.problem``).
CHOOSE_AGAIN = "Choose the files again."
# The problem of an upload source marked failed (``source_mark_synced``), which records no error of its own.
NO_FILE_READ = "No file of its last upload could be read; the upload reported each file's error."
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
    if switched := switched_away(request, membership, done="deleted"):
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
