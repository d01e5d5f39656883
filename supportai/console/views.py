from __future__ import annotations

from urllib.parse import urlsplit

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import Resolver404, resolve
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from supportai.console.context import CONSOLE_SECTIONS
from supportai.console.tenancy import SESSION_KEY, require_membership
from supportai.selectors import membership_get

SECTION_TITLES = dict(CONSOLE_SECTIONS)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    membership = require_membership(request)
    return render(request, "console/home.html", {"tenant": membership.tenant, "membership": membership})


@login_required
def section(request: HttpRequest, slug: str) -> HttpResponse:
    """Placeholder page for areas whose apps have not landed yet (keeps navigation honest)."""
    membership = require_membership(request)
    title = SECTION_TITLES.get(slug)
    if title is None:
        return render(request, "console/not_found.html", status=404)
    return render(request, "console/section.html", {"tenant": membership.tenant, "title": title, "slug": slug})


class SwitchTenantForm(forms.Form):
    tenant_id = forms.IntegerField(min_value=1)
    next = forms.CharField(required=False, max_length=500)


@login_required
@require_POST
def switch_tenant(request: HttpRequest) -> HttpResponse:
    form = SwitchTenantForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest("Choose a tenant from the list.")
    membership = membership_get(user=request.user, tenant_id=form.cleaned_data["tenant_id"])
    if membership is None:
        # Same answer for "no such tenant" and "not yours": tenant ids are not to be probed.
        return HttpResponseBadRequest("You are not a member of that tenant.")
    request.session[SESSION_KEY] = membership.tenant_id
    target = form.cleaned_data["next"] or "/console/"
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "/console/"
    return redirect(_page_for_any_tenant(target))


def _page_for_any_tenant(target: str) -> str:
    """``target``, unless it is the page of one object (a ``pk`` in its path: a conversation, a
    knowledge source), which the tenant switched to has not got (a 404): then its section's first
    page, as /console/knowledge/ for /console/knowledge/sources/7/edit/."""
    path = urlsplit(target).path
    try:
        match = resolve(path)
    except Resolver404:
        return target
    if "pk" not in match.kwargs:
        return target
    section = path.removeprefix("/console/").split("/", 1)[0]
    return f"/console/{section}/"
