"""Options and look-ups shared by the management commands of every app."""

from __future__ import annotations

from django.core.management.base import CommandError

from supportai.models import Tenant

NO_TENANT = "No tenant with slug {slug!r}"


def tenant_by_slug(slug: str) -> Tenant:
    """The tenant a command's ``--tenant SLUG`` names; ``CommandError`` if there is none."""
    try:
        slug.encode()
    except UnicodeEncodeError:  # not UTF-8 on the command line (surrogate escapes): no slug is, nor can be stored
        raise CommandError(NO_TENANT.format(slug=slug)) from None
    tenant = Tenant.objects.filter(slug=slug).first()
    if tenant is None:
        raise CommandError(NO_TENANT.format(slug=slug))
    return tenant
