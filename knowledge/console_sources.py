"""Console pages for website sources: add, edit, delete and "Sync now"."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import pluralize
from django.views.decorators.http import require_http_methods, require_POST

from knowledge.console_access import NOT_MANAGER, SWITCHED_FROM_ITS_TENANT, switched_away
from knowledge.console_forms import UrlSourceForm
from knowledge.models import KnowledgeSource
from knowledge.selectors import source_get, source_totals, url_source_get
from knowledge.source_config import (
    FIRST_SYNC_QUEUED,
    NEXT_SYNC_USES_SETTINGS,
    SourceConfigError,
    SyncRunning,
    source_sync_enqueue,
    url_source_create,
    url_source_update,
)
from knowledge.sources import knowledge_source_delete
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

SAVED_WHILE_SYNCING = "a sync is running with the old ones; press Sync now when it has finished."


@login_required
@require_POST
def source_sync(request: HttpRequest, pk: int) -> HttpResponse:
    """ "Sync now" for a URL source of the current tenant (another tenant's id is a 404)."""
    membership = require_membership(request)
    if switched := switched_away(request, membership, done="queued"):
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
    if switched := switched_away(request, membership, done="deleted"):
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
