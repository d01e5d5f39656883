"""Who may change knowledge from the console, and what a page posted after the console switched tenant gets."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from supportai.console.tenancy import switched_since_rendered
from supportai.models import Membership

NOT_MANAGER = "Only owners and admins can change knowledge (uploads, sources, syncs)."
# A page about one of the tenant's sources or documents, posted once the console has switched to
# another tenant (``switched_since_rendered``): what it is about belongs to the tenant it was opened for.
SWITCHED_FROM_ITS_TENANT = (
    "Nothing was {done}: the console switched to {tenant} since this page was opened (in another tab?), "
    "and what it was about is another tenant's. Switch back to that tenant, then try again."
)


def switched_away(request: HttpRequest, membership: Membership, *, done: str) -> HttpResponse | None:
    """The documents page saying nothing was ``done`` when a page about one of a tenant's sources or
    documents was posted after the console switched to another tenant (``switched_since_rendered``),
    before the source or document is looked up in the tenant switched to (a 404); None otherwise."""
    if request.method != "POST" or not switched_since_rendered(request, membership.tenant):
        return None
    messages.error(request, SWITCHED_FROM_ITS_TENANT.format(done=done, tenant=membership.tenant.name))
    return redirect("knowledge_console:documents")
