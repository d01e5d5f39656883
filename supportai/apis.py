from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from supportai.api_auth import ApiKeyPrincipal
from supportai.api_errors import error_responses
from supportai.api_query import QUERY_PARAMETERS_ERROR, KnownQueryApiView
from supportai.models import Tenant
from supportai.selectors import membership_list

NO_TENANT = "This request is not tied to a tenant: use a tenant API key."


def api_tenant(request: Request) -> Tenant:
    """The tenant an API request acts for: the API key's, or the staff user's only tenant."""
    if isinstance(request.user, ApiKeyPrincipal):
        return request.user.tenant
    return staff_tenant(request.user)


def staff_tenant(user: User | AnonymousUser) -> Tenant:
    """The tenant a staff session acts for through the API: the user's only one, else PermissionDenied."""
    memberships = list(membership_list(user=user)[:2])
    if len(memberships) == 1:
        return memberships[0].tenant
    raise PermissionDenied(NO_TENANT)


class TenantDetailApi(KnownQueryApiView):
    class OutputSerializer(serializers.ModelSerializer):
        class Meta:
            model = Tenant
            fields = ("name", "slug", "public_key", "timezone", "locale", "allowed_origins")
            ref_name = "Tenant"

    @extend_schema(
        responses={200: OutputSerializer, **error_responses({400: QUERY_PARAMETERS_ERROR})},
        summary="The tenant this API key belongs to",
    )
    def get(self, request: Request) -> Response:
        return Response(self.OutputSerializer(api_tenant(request)).data)
