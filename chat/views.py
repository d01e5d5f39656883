from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from supportai.demo import DEMO_SLUG
from supportai.models import Tenant


@require_GET
def demo_page(request: HttpRequest) -> HttpResponse:
    """A pretend tenant website hosting the widget for the demo tenant (run ``seed_demo`` first)."""
    tenant = Tenant.objects.filter(slug=DEMO_SLUG, is_active=True).first()
    status = 200 if tenant else 503
    return render(request, "chat/demo.html", {"tenant": tenant}, status=status)
