"""REST API of website sources: create, read, delete and sync one."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.exceptions import APIException
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings

from knowledge.api_access import BODY_TOO_LARGE_ERROR, BODY_TYPE_ERROR, NOT_MANAGER_ERROR, manager_tenant
from knowledge.folder_sources import tenant_visible_config
from knowledge.models import KnowledgeSource
from knowledge.selectors import source_get
from knowledge.source_config import (
    MAX_DEPTH,
    NAME_MAX_LENGTH,
    PREFIX_MAX_LENGTH,
    URL_MAX_LENGTH,
    SourceConfigError,
    SyncRunning,
    source_sync_enqueue,
    url_source_create,
)
from supportai.api_errors import error_responses
from supportai.api_fields import (
    NOT_BLANK,
    KnownFieldsSerializer,
    StrictBooleanField,
    StrictCharField,
    StrictIntegerField,
)
from supportai.api_query import QUERY_PARAMETERS_ERROR, KnownQueryApiView
from supportai.apis import api_tenant

SOURCE_NOT_FOUND = {404: "no such source in the tenant (another tenant's id is not found either)"}


class SyncRunningConflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "sync_running"


class SourceOutputSerializer(serializers.ModelSerializer):
    config = serializers.SerializerMethodField(
        help_text="a website source's settings; a folder source's path on the server is left out"
    )

    class Meta:
        model = KnowledgeSource
        fields = (
            *("id", "name", "kind", "config", "status", "error"),
            *("last_synced_at", "last_sync_summary", "created_at"),
        )
        ref_name = "KnowledgeSource"

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_config(self, source: KnowledgeSource) -> dict[str, Any]:
        return tenant_visible_config(source.config)


class UrlSourceCreateApi(KnownQueryApiView):
    """Create a website source (crawl from ``start_url`` or read ``sitemap_url``); it syncs in the background,
    or, with Celery eager, before the answer, which shows the source as it is after the sync."""

    class InputSerializer(KnownFieldsSerializer):
        # Types and sizes only: the rules (ranges included) are url_source_create's, shared with the console.
        name = StrictCharField(max_length=NAME_MAX_LENGTH, validators=[NOT_BLANK])
        start_url = StrictCharField(max_length=URL_MAX_LENGTH, required=False, allow_blank=True)
        sitemap_url = StrictCharField(max_length=URL_MAX_LENGTH, required=False, allow_blank=True)
        path_prefix = StrictCharField(max_length=PREFIX_MAX_LENGTH, required=False, allow_blank=True)
        max_pages = StrictIntegerField(required=False)
        max_depth = StrictIntegerField(required=False, help_text=f"0 to {MAX_DEPTH}")
        sync_interval_minutes = StrictIntegerField(required=False, help_text="0: only on demand")
        sync_now = StrictBooleanField(default=True)

        class Meta:
            ref_name = "UrlSourceInput"

    @extend_schema(
        request=InputSerializer,
        responses={
            201: SourceOutputSerializer,
            **error_responses(
                {
                    400: (
                        "a missing or taken name, not exactly one of start_url and sitemap_url (under "
                        "non_field_errors), a URL that is not a public http(s) site, a limit out of range; each "
                        "under the field it is about; a field the operation does not take (under non_field_errors, "
                        "naming it and those it takes); a form field given twice (under its name); "
                        + QUERY_PARAMETERS_ERROR
                    ),
                    **NOT_MANAGER_ERROR,
                    **BODY_TOO_LARGE_ERROR,
                    **BODY_TYPE_ERROR,
                }
            ),
        },
        summary="Add a website source",
    )
    def post(self, request: Request) -> Response:
        tenant = manager_tenant(request)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        config = dict(serializer.validated_data)
        name, sync_now = config.pop("name"), config.pop("sync_now")
        try:
            source = url_source_create(tenant=tenant, name=name, config=config, sync_now=sync_now)
        except SourceConfigError as exc:
            # Under the input field it is about; a rule of several (exactly one of start_url and sitemap_url)
            # under non_field_errors, as DRF puts its own.
            field = exc.field if exc.field in serializer.fields else api_settings.NON_FIELD_ERRORS_KEY
            raise serializers.ValidationError({field: [str(exc)]}) from exc
        # Read again: with Celery eager (no REDIS_URL) the first sync ran on commit, inside the call.
        source = source_get(tenant=tenant, pk=source.pk)
        return Response(SourceOutputSerializer(source).data, status=status.HTTP_201_CREATED)


class SourceDetailApi(KnownQueryApiView):
    @extend_schema(
        responses={200: SourceOutputSerializer, **error_responses({400: QUERY_PARAMETERS_ERROR, **SOURCE_NOT_FOUND})},
        summary="A knowledge source and its last sync",
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(SourceOutputSerializer(source_get(tenant=api_tenant(request), pk=pk)).data)


class SyncQueuedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    queued = serializers.BooleanField()

    class Meta:
        ref_name = "SyncQueued"


class SourceSyncApi(KnownQueryApiView):
    @extend_schema(
        request=None,
        responses={
            202: SyncQueuedSerializer,
            **error_responses(
                {
                    400: "the source is not a website source; " + QUERY_PARAMETERS_ERROR,
                    **NOT_MANAGER_ERROR,
                    **SOURCE_NOT_FOUND,
                    409: "a sync of the source is running (its result shows on the source when it finishes)",
                }
            ),
        },
        summary="Sync a website source now",
    )
    def post(self, request: Request, pk: int) -> Response:
        tenant = manager_tenant(request)
        source = source_get(tenant=tenant, pk=pk)
        try:
            source_sync_enqueue(tenant=tenant, source=source)
        except SyncRunning as exc:
            raise SyncRunningConflict(str(exc)) from exc
        except SourceConfigError as exc:
            raise serializers.ValidationError({"source": [str(exc)]}) from exc
        return Response({"id": source.pk, "queued": True}, status=status.HTTP_202_ACCEPTED)
