"""REST API of the knowledge base's documents: upload, list, read and delete (tenant API keys or a staff
session). Website sources are in ``api_sources``, search in ``api_retrieval``, who may call in ``api_access``."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator as DjangoPaginator
from django.http import HttpRequest
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import APIException
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import FormParser
from rest_framework.request import Request
from rest_framework.response import Response

from knowledge.api_access import NOT_MANAGER_ERROR, manager_tenant
from knowledge.languages import DEFAULT_LANGUAGE, clean_language
from knowledge.models import Document, DocumentStatus
from knowledge.multipart import RequestSizeUploadHandler, StrictMultiPartParser, UploadRequestTooLarge
from knowledge.paging import IdsFirstPaginator
from knowledge.parsed import ErrorCode
from knowledge.selectors import document_list, document_status_get, source_get
from knowledge.services import Outcome, SourceKindError, document_delete
from knowledge.source_config import API_UPLOAD_SOURCE
from knowledge.uploads import files_upload
from supportai.api_errors import error_responses
from supportai.api_fields import KnownFieldsSerializer
from supportai.api_query import QUERY_PARAMETERS_ERROR, KnownQueryApiView
from supportai.apis import api_tenant
from supportai.outbound import http_url
from supportai.request_limits import API_MAX_FILES, TOO_MANY_FILES

# Also what a multipart body whose parts Django cannot find gets: it reads as one without files.
NO_FILES = 'No files arrived: send them as multipart/form-data parts named "files" (each with a file name).'
# A file part under another name, or a "files" part without a file name (curl -F files=a.md, no @),
# would be dropped while the other files are stored: the upload is refused instead.
UNEXPECTED_FILE_PARTS = (
    'Only parts named "files" can hold files, and {parts} did: nothing was stored. '
    'Send every file as a part named "files".'
)
FILES_WITHOUT_NAME = (
    'A part named "files" came without a file name, so it is text ({parts}), not a file: nothing was '
    'stored. Send each file with its file name (curl: -F "files=@path").'
)
LANGUAGES_CONFLICT = "Give one language for the upload; it has {languages}. Nothing was stored."
MAX_FILES = API_MAX_FILES
UPLOAD_LIMITS = (
    f"up to {MAX_FILES} files, each up to KNOWLEDGE_MAX_UPLOAD_BYTES (default 10 MiB; a larger file gets "
    "error_code too_large in its result, the others are stored), and at most KNOWLEDGE_MAX_UPLOAD_REQUEST_BYTES "
    "(default 100 MiB) in all (a larger request is refused with 413)"
)
DOCUMENTS_PAGE_SIZE = 50
PAGE_PAST_THE_LAST = (
    f"There is no page {{page_number}}: the list has fewer pages ({DOCUMENTS_PAGE_SIZE} documents a page; "
    "count says how many documents there are)."
)
DOCUMENT_NOT_FOUND = {404: "no such document in the tenant (another tenant's id is not found either)"}
UPLOAD_TYPE_ERROR = {415: "a body that is not multipart/form-data or a url-encoded form (a JSON body included)"}


class HttpUrlField(serializers.CharField):
    """A document's address as clients may make it a link: an absolute http(s) one, else "" (uploads
    store no other since session 23; a row stored before may hold ``javascript:`` or ``data:``)."""

    def to_representation(self, value: object) -> str:
        return http_url(value)


class DocumentOutputSerializer(serializers.ModelSerializer):
    url = HttpUrlField(read_only=True)

    class Meta:
        model = Document
        fields = (
            "id",
            "source",
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


class UploadedDocumentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    outcome = serializers.ChoiceField(choices=[outcome.value for outcome in Outcome])

    class Meta:
        ref_name = "UploadedDocument"


class UploadedFileSerializer(serializers.Serializer):
    name = serializers.CharField()
    error_code = serializers.ChoiceField(
        choices=["", *(code.value for code in ErrorCode)], help_text="empty when the file was read"
    )
    error = serializers.CharField(help_text="what is wrong with the file, for people; empty when it was read")
    documents = UploadedDocumentSerializer(many=True)
    removed = serializers.IntegerField(
        help_text="documents the file gave before and no longer holds (a CSV FAQ's rows, a corpus's records), deleted"
    )
    kept = serializers.IntegerField(
        help_text=(
            "documents the file gave before and no longer holds, left in place because another file of the "
            "upload failed (a record may have moved there): upload the file again once the errors are fixed"
        )
    )
    note = serializers.CharField(
        help_text=(
            "what to know about a file that was read, for people (a corpus's records with no title and no text, "
            "left out, by line; its documents' urls that are not absolute http(s) addresses, left out while their "
            "text is indexed; both separated by '; '); empty when nothing"
        )
    )

    class Meta:
        ref_name = "UploadedFile"


class UploadOutputSerializer(serializers.Serializer):
    files = UploadedFileSerializer(many=True)

    class Meta:
        ref_name = "UploadResult"


class DocumentPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = DocumentOutputSerializer(many=True)

    class Meta:
        ref_name = "DocumentPage"


class DocumentPages(PageNumberPagination):
    """Pages of ``DOCUMENTS_PAGE_SIZE`` documents, whatever is asked: no parameter sets a page's size."""

    page_size = DOCUMENTS_PAGE_SIZE
    django_paginator_class = IdsFirstPaginator
    invalid_page_message = PAGE_PAST_THE_LAST

    def __init__(self, page: int = 1) -> None:
        self.page_number = page

    def get_page_number(self, request: Request, paginator: DjangoPaginator) -> int:
        # The page FilterSerializer validated: the raw parameter ("2.0") would be "Invalid page." (404).
        return self.page_number


class UploadSourceConflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "upload_source_conflict"


class UploadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "upload_too_large"


class EmptyFiltersSchema(AutoSchema):
    """DRF reads a query parameter sent empty (``?status=``, as an HTML form sends an unset filter)
    as absent; the schema says so (``allowEmptyValue``), so clients and tests know it is no error."""

    def _get_parameters(self) -> list[dict[str, Any]]:
        parameters: list[dict[str, Any]] = super()._get_parameters()
        return [
            {**parameter, "allowEmptyValue": True} if parameter["in"] == "query" else parameter
            for parameter in parameters
        ]


class DocumentsApi(KnownQueryApiView):
    """List the tenant's documents (any member), or upload files (owners and admins): each file is
    parsed now and indexed in the background (status ``pending`` → ``ready``)."""

    parser_classes = (StrictMultiPartParser, FormParser)
    schema = EmptyFiltersSchema()

    def initialize_request(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Request:
        # Before anything reads the body (a staff session's CSRF check does, in authentication).
        request.upload_handlers.insert(0, RequestSizeUploadHandler(request))
        return super().initialize_request(request, *args, **kwargs)

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, UploadRequestTooLarge):
            exc = UploadTooLarge(str(exc))
        return super().handle_exception(exc)

    class FilterSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=DocumentStatus.values, required=False, help_text="empty: any")
        # Named like Field.source on purpose (the query parameter); DRF's metaclass moves declared
        # fields out of the class attributes, so the serializer's own ``source`` is untouched.
        source = serializers.IntegerField(  # type: ignore[assignment]
            min_value=1, required=False, help_text="a knowledge source's id; empty: any"
        )
        page = serializers.IntegerField(
            min_value=1, required=False, help_text=f"{DOCUMENTS_PAGE_SIZE} per page; empty: the first"
        )

        class Meta:
            ref_name = "DocumentFilter"

    query_serializer = FilterSerializer

    @extend_schema(
        operation_id="v1_knowledge_documents_list",
        parameters=[FilterSerializer],
        responses={
            200: DocumentPageSerializer,
            **error_responses(
                {
                    400: "a status that is not pending, ready or failed; a source or page that is not a number; "
                    + QUERY_PARAMETERS_ERROR,
                    404: "a page past the last, or a source the tenant does not have",
                }
            ),
        },
        summary="The tenant's knowledge documents by title, with status, chunk count and error",
    )
    def get(self, request: Request) -> Response:
        tenant = api_tenant(request)
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        wanted = filters.validated_data
        source = source_get(tenant=tenant, pk=wanted["source"]) if "source" in wanted else None
        pages = DocumentPages(wanted.get("page", 1))
        page = pages.paginate_queryset(
            document_list(tenant=tenant, source=source, status=wanted.get("status")), request, view=self
        )
        return pages.get_paginated_response(DocumentOutputSerializer(page, many=True).data)

    class InputSerializer(KnownFieldsSerializer):
        # An empty file is refused in its own result ("empty"), not for the whole upload.
        files = serializers.ListField(
            child=serializers.FileField(allow_empty_file=True),
            allow_empty=False,
            max_length=MAX_FILES,
            help_text=UPLOAD_LIMITS,
            # In the words of Django's guard on files, which a request of more than 100 meets first.
            error_messages={"empty": NO_FILES, "max_length": TOO_MANY_FILES.format(limit=MAX_FILES)},
        )
        language = serializers.CharField(
            required=False,
            default=DEFAULT_LANGUAGE,
            help_text=(
                "language of the documents whose files declare none: a tag whose primary subtag is an ISO 639-1 "
                "code (en, de-CH, pt-BR…) or an ISO 639-2/3 code (fil, yue-HK), or an English name (German); "
                "an unknown code (zz) and und, mul, zxx and mis are refused"
            ),
        )

        class Meta:
            ref_name = "DocumentUploadInput"

        def validate_language(self, value: str) -> str:
            try:
                return clean_language(value)
            except ValueError as exc:
                raise serializers.ValidationError(str(exc)) from exc

    @extend_schema(
        # FormParser lets a url-encoded body hear NO_FILES, or FILES_WITHOUT_NAME for a "files" field (a 400,
        # not a 415): files never arrive that way.
        request={"multipart/form-data": InputSerializer},
        responses={
            202: UploadOutputSerializer,
            **error_responses(
                {
                    400: (
                        f"no files, more than {MAX_FILES}, a file part not named files or a files part "
                        "without a file name, a part that could not be read (a file name not in UTF-8), a body "
                        "cut before its closing boundary, a charset that does not encode ASCII as itself (UTF-16), "
                        "more than one language (nothing is stored), a "
                        "malformed multipart body, a language that is not one, or a part named other than files and "
                        "language (under non_field_errors, naming it; nothing is stored); " + QUERY_PARAMETERS_ERROR
                    ),
                    **NOT_MANAGER_ERROR,
                    409: f"a source named {API_UPLOAD_SOURCE!r} exists and is not an upload source "
                    "(a website source made before the name was kept for uploads); nothing is stored",
                    413: "a request body over KNOWLEDGE_MAX_UPLOAD_REQUEST_BYTES (default 100 MiB; refused as it "
                    "arrives, nothing stored: send the files in smaller batches), or form fields over "
                    "DATA_UPLOAD_MAX_MEMORY_SIZE. A file over KNOWLEDGE_MAX_UPLOAD_BYTES is not refused here: "
                    "its own result says too_large",
                    **UPLOAD_TYPE_ERROR,
                }
            ),
        },
        summary="Upload knowledge files (md, txt, html, pdf, csv FAQ, jsonl)",
    )
    def post(self, request: Request) -> Response:
        tenant = manager_tenant(request)
        _check_parts(request)
        language = request.POST.get("language", DEFAULT_LANGUAGE)
        # The form's other text parts too, so that one the upload does not take is refused.
        fields = {**request.POST.dict(), "files": request.FILES.getlist("files"), "language": language}
        serializer = self.InputSerializer(data=fields)
        serializer.is_valid(raise_exception=True)
        files, language = serializer.validated_data["files"], serializer.validated_data["language"]
        try:
            uploaded = files_upload(
                tenant=tenant, files=files, source_name=API_UPLOAD_SOURCE, default_language=language
            )
        except SourceKindError as exc:
            raise UploadSourceConflict(str(exc)) from exc
        results = [
            {
                "name": result.file.name,
                "error_code": result.file.error_code,
                "error": result.file.error,
                "documents": [{"id": d.id, "title": d.title, "outcome": d.outcome} for d in result.documents],
                "removed": result.file.removed,
                "kept": result.file.kept,
                "note": result.file.note,
            }
            for result in uploaded
        ]
        return Response({"files": results}, status=status.HTTP_202_ACCEPTED)


def _check_parts(request: Request) -> None:
    """Refuse an upload that would drop a part silently, or be told that no files arrived when they came
    in the wrong parts: a file not named "files", a "files" part that is text, or a second language.
    With no such part, and no file named "files", the serializer's ``NO_FILES`` says what to send."""
    if others := sorted(name for name in request.FILES if name != "files"):
        parts = ", ".join(map(repr, others))
        raise serializers.ValidationError({"files": [UNEXPECTED_FILE_PARTS.format(parts=parts)]})
    if texts := request.POST.getlist("files"):
        parts = ", ".join(repr(text[:100]) for text in texts)
        raise serializers.ValidationError({"files": [FILES_WITHOUT_NAME.format(parts=parts)]})
    if len(languages := request.POST.getlist("language")) > 1:
        listed = ", ".join(repr(language[:100]) for language in languages)
        raise serializers.ValidationError({"language": [LANGUAGES_CONFLICT.format(languages=listed)]})


class DocumentDetailApi(KnownQueryApiView):
    """One document of the tenant: read it (any member) or delete it (owners and admins)."""

    @extend_schema(
        responses={
            200: DocumentOutputSerializer,
            **error_responses({400: QUERY_PARAMETERS_ERROR, **DOCUMENT_NOT_FOUND}),
        },
        summary="A knowledge document and its indexing status",
    )
    def get(self, request: Request, pk: int) -> Response:
        document = document_status_get(tenant=api_tenant(request), pk=pk)
        return Response(DocumentOutputSerializer(document).data)

    @extend_schema(
        responses={
            204: None,
            **error_responses({400: QUERY_PARAMETERS_ERROR, **NOT_MANAGER_ERROR, **DOCUMENT_NOT_FOUND}),
        },
        summary="Delete a knowledge document with its chunks (a website source's next sync brings its page back)",
    )
    def delete(self, request: Request, pk: int) -> Response:
        tenant = manager_tenant(request)
        document_delete(tenant=tenant, document=document_status_get(tenant=tenant, pk=pk))
        return Response(status=status.HTTP_204_NO_CONTENT)
