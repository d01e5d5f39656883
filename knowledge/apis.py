"""REST API of the knowledge base (tenant API keys or a staff session)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import APIException
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from knowledge.languages import DEFAULT_LANGUAGE, clean_language
from knowledge.models import Document, KnowledgeSource
from knowledge.providers.base import ProviderError
from knowledge.retrieval import EMBEDDING_UNAVAILABLE, MODES
from knowledge.selectors import document_get, retrieve, source_get
from knowledge.services import files_upload
from knowledge.source_config import (
    MAX_DEPTH,
    NAME_MAX_LENGTH,
    PREFIX_MAX_LENGTH,
    URL_MAX_LENGTH,
    SourceConfigError,
    source_sync_enqueue,
    url_source_create,
)
from supportai.api_auth import ApiKeyPrincipal
from supportai.apis import api_tenant
from supportai.models import MANAGER_ROLES, Tenant
from supportai.selectors import membership_get

UPLOAD_SOURCE = "API uploads"
NOT_MANAGER = "Only owners and admins of the tenant can change knowledge (uploads, sources, syncs)."
MAX_FILES = 50


def _manager_tenant(request: Request) -> Tenant:
    tenant = api_tenant(request)
    if isinstance(request.user, ApiKeyPrincipal):
        return tenant
    membership = membership_get(user=request.user, tenant_id=tenant.pk)
    if membership is None or membership.role not in MANAGER_ROLES:
        raise PermissionDenied(NOT_MANAGER)
    return tenant


class DocumentOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Document
        fields = (
            "id",
            "external_id",
            "title",
            "url",
            "language",
            "status",
            "error",
            "chunk_count",
            "updated_at",
            "indexed_at",
        )


class DocumentUploadApi(APIView):
    """Upload files; each is parsed now and indexed in the background (status ``pending`` → ``ready``)."""

    parser_classes = (MultiPartParser, FormParser)

    class InputSerializer(serializers.Serializer):
        files = serializers.ListField(child=serializers.FileField(), allow_empty=False, max_length=MAX_FILES)
        language = serializers.CharField(
            required=False,
            default=DEFAULT_LANGUAGE,
            help_text="language of the documents whose files declare none (en, de, pt-BR…)",
        )

        class Meta:
            ref_name = "DocumentUploadInput"

        def validate_language(self, value: str) -> str:
            try:
                return clean_language(value)
            except ValueError as exc:
                raise serializers.ValidationError(str(exc)) from exc

    @extend_schema(
        request=InputSerializer,
        responses={202: OpenApiTypes.OBJECT},
        summary="Upload knowledge files (md, txt, html, pdf, csv FAQ, jsonl)",
    )
    def post(self, request: Request) -> Response:
        tenant = _manager_tenant(request)
        language = request.POST.get("language", DEFAULT_LANGUAGE)
        serializer = self.InputSerializer(data={"files": request.FILES.getlist("files"), "language": language})
        serializer.is_valid(raise_exception=True)
        files, language = serializer.validated_data["files"], serializer.validated_data["language"]
        results = [
            {
                "name": result.file.name,
                "error_code": result.file.error_code,
                "error": result.file.error,
                "documents": [{"id": d.id, "title": d.title, "outcome": d.outcome} for d in result.documents],
            }
            for result in files_upload(tenant=tenant, files=files, source_name=UPLOAD_SOURCE, default_language=language)
        ]
        return Response({"files": results}, status=status.HTTP_202_ACCEPTED)


class DocumentDetailApi(APIView):
    @extend_schema(responses=DocumentOutputSerializer, summary="A knowledge document and its indexing status")
    def get(self, request: Request, pk: int) -> Response:
        document = document_get(tenant=api_tenant(request), pk=pk)
        return Response(DocumentOutputSerializer(document).data)


class EmbeddingUnavailable(APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "embedding_unavailable"


class RetrieveApi(APIView):
    class InputSerializer(serializers.Serializer):
        query = serializers.CharField(max_length=2000)
        k = serializers.IntegerField(min_value=1, max_value=50, default=5)
        mode = serializers.ChoiceField(choices=MODES, default="hybrid")

        class Meta:
            ref_name = "RetrieveInput"

    class OutputSerializer(serializers.Serializer):
        index = serializers.IntegerField()
        document_id = serializers.IntegerField()
        chunk_id = serializers.IntegerField()
        title = serializers.CharField()
        url = serializers.CharField()
        text = serializers.CharField()
        score = serializers.FloatField()
        matched_chunk_ids = serializers.ListField(child=serializers.IntegerField())
        ranks = serializers.DictField(child=serializers.IntegerField(allow_null=True))

        class Meta:
            ref_name = "Passage"

    @extend_schema(
        request=InputSerializer,
        responses={200: OutputSerializer(many=True), 503: OpenApiTypes.OBJECT},
        summary="Test retrieval (503 in dense mode while the embedding provider fails)",
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            passages = retrieve(tenant=api_tenant(request), **serializer.validated_data)
        except ProviderError as exc:
            raise EmbeddingUnavailable(f"{EMBEDDING_UNAVAILABLE} ({exc})") from exc
        return Response(self.OutputSerializer(passages, many=True).data)


class SourceOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = KnowledgeSource
        fields = ("id", "name", "kind", "config", "status", "error", "last_synced_at", "created_at")
        ref_name = "KnowledgeSource"


class UrlSourceCreateApi(APIView):
    """Create a website source (crawl from ``start_url`` or read ``sitemap_url``); it syncs in the background."""

    class InputSerializer(serializers.Serializer):
        # Types and sizes only: the rules (ranges included) are url_source_create's, shared with the console.
        name = serializers.CharField(max_length=NAME_MAX_LENGTH)
        start_url = serializers.CharField(max_length=URL_MAX_LENGTH, required=False, allow_blank=True)
        sitemap_url = serializers.CharField(max_length=URL_MAX_LENGTH, required=False, allow_blank=True)
        path_prefix = serializers.CharField(max_length=PREFIX_MAX_LENGTH, required=False, allow_blank=True)
        max_pages = serializers.IntegerField(required=False)
        max_depth = serializers.IntegerField(required=False, help_text=f"0 to {MAX_DEPTH}")
        sync_interval_minutes = serializers.IntegerField(required=False, help_text="0: only on demand")
        sync_now = serializers.BooleanField(default=True)

        class Meta:
            ref_name = "UrlSourceInput"

    @extend_schema(request=InputSerializer, responses={201: SourceOutputSerializer}, summary="Add a website source")
    def post(self, request: Request) -> Response:
        tenant = _manager_tenant(request)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        config = dict(serializer.validated_data)
        name, sync_now = config.pop("name"), config.pop("sync_now")
        try:
            source = url_source_create(tenant=tenant, name=name, config=config, sync_now=sync_now)
        except SourceConfigError as exc:
            raise serializers.ValidationError({"config": [str(exc)]}) from exc
        return Response(SourceOutputSerializer(source).data, status=status.HTTP_201_CREATED)


class SourceDetailApi(APIView):
    @extend_schema(responses=SourceOutputSerializer, summary="A knowledge source and its last sync")
    def get(self, request: Request, pk: int) -> Response:
        return Response(SourceOutputSerializer(source_get(tenant=api_tenant(request), pk=pk)).data)


class SourceSyncApi(APIView):
    @extend_schema(request=None, responses={202: OpenApiTypes.OBJECT}, summary="Sync a website source now")
    def post(self, request: Request, pk: int) -> Response:
        tenant = _manager_tenant(request)
        source = source_get(tenant=tenant, pk=pk)
        try:
            source_sync_enqueue(tenant=tenant, source=source)
        except SourceConfigError as exc:
            raise serializers.ValidationError({"source": [str(exc)]}) from exc
        return Response({"id": source.pk, "queued": True}, status=status.HTTP_202_ACCEPTED)
