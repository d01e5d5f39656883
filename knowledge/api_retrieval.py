"""REST API: ``POST /api/v1/knowledge/search/``, ranked passages as chat retrieves them."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import APIException
from rest_framework.request import Request
from rest_framework.response import Response

from knowledge.api_access import BODY_TOO_LARGE_ERROR, BODY_TYPE_ERROR
from knowledge.apis import HttpUrlField
from knowledge.providers.base import ProviderError
from knowledge.retrieval import EMBEDDING_UNAVAILABLE, MODES
from knowledge.selectors import retrieve
from knowledge.timeouts import RETRIEVAL_TIMED_OUT, RetrievalTimedOut
from supportai.api_errors import error_responses
from supportai.api_fields import (
    NOT_BLANK,
    KnownFieldsSerializer,
    StrictCharField,
    StrictChoiceField,
    StrictIntegerField,
)
from supportai.api_query import QUERY_PARAMETERS_ERROR, KnownQueryApiView
from supportai.apis import api_tenant


class EmbeddingUnavailable(APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "embedding_unavailable"


class RetrievalUnavailable(APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "retrieval_timed_out"
    default_detail = RETRIEVAL_TIMED_OUT


class RetrieveApi(KnownQueryApiView):
    class InputSerializer(KnownFieldsSerializer):
        query = StrictCharField(max_length=2000, validators=[NOT_BLANK])
        k = StrictIntegerField(min_value=1, max_value=50, default=5)
        mode = StrictChoiceField(choices=MODES, default="hybrid")

        class Meta:
            ref_name = "RetrieveInput"

    class OutputSerializer(serializers.Serializer):
        index = serializers.IntegerField()
        document_id = serializers.IntegerField()
        chunk_id = serializers.IntegerField()
        title = serializers.CharField()
        url = HttpUrlField()
        text = serializers.CharField()
        score = serializers.FloatField()
        matched_chunk_ids = serializers.ListField(child=serializers.IntegerField())
        ranks = serializers.DictField(child=serializers.IntegerField(allow_null=True))

        class Meta:
            ref_name = "Passage"

    @extend_schema(
        request=InputSerializer,
        responses={
            200: OutputSerializer(many=True),
            **error_responses(
                {
                    400: "query missing, blank or over 2,000 characters; k outside 1-50; an unknown mode; a field "
                    "other than query, k and mode (under non_field_errors, naming it); a form field given twice "
                    "(under its name); " + QUERY_PARAMETERS_ERROR,
                    **BODY_TOO_LARGE_ERROR,
                    **BODY_TYPE_ERROR,
                    503: "dense mode while the embedding provider fails (hybrid goes on with BM25), or the "
                    "search ran out of time (KNOWLEDGE_RETRIEVAL_TIMEOUT_MS; hybrid goes on with the retriever "
                    "that answered)",
                }
            ),
        },
        summary="Test retrieval (503 while the embedding provider fails in dense mode, or the search times out)",
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            passages = retrieve(tenant=api_tenant(request), **serializer.validated_data)
        except ProviderError as exc:
            raise EmbeddingUnavailable(EMBEDDING_UNAVAILABLE.format(reason=exc.public_message)) from exc
        except RetrievalTimedOut as exc:
            raise RetrievalUnavailable() from exc
        return Response(self.OutputSerializer(passages, many=True).data)
