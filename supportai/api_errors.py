"""Errors of the tenant REST API: always JSON ``{"detail": ...}``, and documented in the schema.

DRF turns its own exceptions into JSON, but Django's request-size guards raise while the view reads
``request.data`` and would otherwise reach Django's HTML 400 page. ``exception_handler`` answers
them like every other API error (``supportai.request_limits``); ``error_responses`` describes the
error statuses an operation can return, for drf-spectacular.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from supportai.request_limits import API_MAX_FILES, request_limit_error


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, plus JSON answers for Django's request-size guards."""
    limit = request_limit_error(exc, max_files=API_MAX_FILES)
    if limit is not None:
        return Response({"detail": limit.message}, status=limit.status)
    return drf_exception_handler(exc, context)


class ErrorSerializer(serializers.Serializer[Any]):
    detail = serializers.CharField()

    class Meta:
        ref_name = "Error"


VALIDATION_EXAMPLE = OpenApiExample(
    "invalid fields",
    value={"query": ["This field may not be blank."], "k": ["Ensure this value is less than or equal to 50."]},
)

VALIDATION_BODY = 'field name -> messages; {"detail": ...} when the body cannot be parsed at all'

# What each error status means for every operation of the tenant API.
COMMON_ERRORS: dict[int, str] = {
    401: "no API key, or one that is invalid or revoked",
    403: "a staff session that does not belong to exactly one tenant",
    429: "more than API_REQUESTS_PER_MINUTE requests in a minute from this API key (Retry-After says when to retry)",
}


def error_responses(described: dict[int, str]) -> dict[int, OpenApiResponse]:
    """Schema responses for an operation's error statuses: ``described`` (status -> when) over
    the common ones. A 400 is a map of field names to messages (``VALIDATION_BODY``), every other
    status ``{"detail": ...}``."""
    responses: dict[int, OpenApiResponse] = {}
    for code, description in sorted({**COMMON_ERRORS, **described}.items()):
        if code == status.HTTP_400_BAD_REQUEST:
            responses[code] = OpenApiResponse(
                OpenApiTypes.OBJECT, description=f"{description} ({VALIDATION_BODY})", examples=[VALIDATION_EXAMPLE]
            )
        else:
            responses[code] = OpenApiResponse(ErrorSerializer, description=description)
    return responses
