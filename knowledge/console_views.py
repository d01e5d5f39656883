"""Console pages: sources and documents (with upload), and a "test retrieval" box."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from knowledge import conf
from knowledge.retrieval import MODES
from knowledge.selectors import document_list, retrieve, source_get, source_list
from knowledge.services import files_upload
from knowledge.source_config import SourceConfigError, source_sync_enqueue
from supportai.console.tenancy import require_membership

PAGE_SIZE = 50
NOT_MANAGER = "Only owners and admins can change knowledge (uploads, sources, syncs)."


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class UploadForm(forms.Form):
    upload = forms.FileField(label="Files", widget=MultipleFileInput(attrs={"multiple": True}))


class SearchForm(forms.Form):
    q = forms.CharField(max_length=2000, label="Query")
    mode = forms.ChoiceField(choices=[(mode, mode) for mode in MODES], initial="hybrid")
    k = forms.IntegerField(min_value=1, max_value=20, initial=5)


@login_required
def documents(request: HttpRequest) -> HttpResponse:
    membership = require_membership(request)
    tenant = membership.tenant
    if request.method == "POST":
        if not membership.can_manage:
            raise PermissionDenied(NOT_MANAGER)
        uploads = request.FILES.getlist("upload")
        if not uploads:
            messages.error(request, "Choose at least one file to upload.")
            return redirect("knowledge_console:documents")
        limit = conf.SETTINGS.max_upload_bytes
        files = [(u.name or "upload", u.read() if (u.size or 0) <= limit else b"x" * (limit + 1)) for u in uploads]
        for result in files_upload(tenant=tenant, files=files):
            if result.file.error:
                messages.error(request, f"{result.file.name}: {result.file.error}")
            else:
                outcomes = ", ".join(f"{d.title}: {d.outcome}" for d in result.documents)
                messages.success(request, f"{result.file.name}: {outcomes}")
        return redirect("knowledge_console:documents")
    sources = source_list(tenant=tenant).annotate(
        document_count=Count("documents"), chunk_total=Sum("documents__chunk_count")
    )
    page = Paginator(document_list(tenant=tenant), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "tenant": tenant,
        "sources": sources,
        "page": page,
        "form": UploadForm(),
        "can_manage": membership.can_manage,
    }
    return render(request, "knowledge/documents.html", context)


@login_required
@require_POST
def source_sync(request: HttpRequest, pk: int) -> HttpResponse:
    """ "Sync now" for a URL source of the current tenant (another tenant's id is a 404)."""
    membership = require_membership(request)
    source = source_get(tenant=membership.tenant, pk=pk)
    if not membership.can_manage:
        raise PermissionDenied(NOT_MANAGER)
    try:
        source_sync_enqueue(tenant=membership.tenant, source=source)
    except SourceConfigError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Sync of {source.name} queued; refresh to see its status.")
    return redirect("knowledge_console:documents")


@login_required
def search(request: HttpRequest) -> HttpResponse:
    membership = require_membership(request)
    form = SearchForm(request.GET or None)
    passages = []
    if request.GET and form.is_valid():
        data = form.cleaned_data
        passages = retrieve(tenant=membership.tenant, query=data["q"], k=data["k"], mode=data["mode"])
    return render(request, "knowledge/search.html", {"tenant": membership.tenant, "form": form, "passages": passages})
