"""Query parameters an operation of the tenant API does not take, or gets more than once, are refused,
not ignored.

``GET /api/v1/knowledge/documents/?stauts=failed`` (a typo) or ``?source_id=3`` (a wrong name) listed
every document as if filtered, and an upload to ``?language=de`` stored English documents. A view built
on ``KnownQueryApiView`` answers such a request with a 400 naming the unknown parameters and those it
takes, in the words and place of a body's unknown fields (``supportai.api_fields.KnownFieldsSerializer``:
under ``non_field_errors``); and one with a parameter given twice (``?status=ready&status=failed``, which
read as the last value) with a 400 under its name.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from supportai.api_fields import quoted_values, unknown_fields_error

UNKNOWN_QUERY_PARAMETERS = "Unknown query parameter{plural} {names}; the query parameters are {accepted}."
NO_QUERY_PARAMETERS = "Unknown query parameter{plural} {names}; the operation takes none."
# A write's query parameter is most likely one of its fields (?language=de on an upload).
UNKNOWN_BODY_QUERY_PARAMETERS = (
    "Unknown query parameter{plural} {names}; the query parameters are {accepted} (the fields go in the body)."
)
# A parameter given twice would be read as its last value (?status=ready&status=failed as failed only).
REPEATED_QUERY_PARAMETER = "Give one {name}; the query has {values}."
# For the 400 of an operation's schema (supportai.api_errors.error_responses).
QUERY_PARAMETERS_ERROR = (
    "a query parameter the operation does not take (under non_field_errors, naming it and those it takes), "
    "or one given more than once (under its name), or a format the API has no renderer for (under format)"
)
# Methods whose query parameters are the view's ``query_serializer``'s (DRF answers HEAD with the GET handler).
_READS = ("GET", "HEAD")


def format_parameters() -> tuple[str, ...]:
    """The query parameters DRF itself reads on every view: ``?format=`` picks the renderer (json, or api
    for the browsable API) unless ``URL_FORMAT_OVERRIDE`` is off."""
    override = api_settings.URL_FORMAT_OVERRIDE
    return (override,) if override else ()


class KnownQueryApiView(APIView):
    """An ``APIView`` that refuses the query parameters an operation does not take, and those given more
    than once: a read takes ``query_serializer``'s fields (the view's filters and page, which it validates
    itself) and ``format_parameters()``, a write ``format_parameters()`` only (its fields go in the body:
    an upload to ``?language=de`` stored English documents).

    The check runs once the request is authenticated, allowed and within its rate (a request without a
    key is told 401 first), and before the handler reads anything; a method the view has no handler
    for is left to DRF's 405.
    """

    query_serializer: type[serializers.Serializer[Any]] | None = None

    def query_parameters(self, method: str) -> list[str]:
        serializer = self.query_serializer if method in _READS else None
        taken = list(serializer().fields) if serializer is not None else []
        return [*taken, *(name for name in format_parameters() if name not in taken)]

    def _handles(self, method: str) -> bool:
        name = method.lower()
        return name in self.http_method_names and hasattr(self, name)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        method = request.method or "GET"
        if not self._handles(method):
            return  # dispatch answers 405, which a query's parameters must not turn into a 400
        accepted = self.query_parameters(method)
        if not accepted:
            template = NO_QUERY_PARAMETERS
        else:
            template = UNKNOWN_QUERY_PARAMETERS if method in _READS else UNKNOWN_BODY_QUERY_PARAMETERS
        if unknown := unknown_fields_error(request.query_params, accepted, template):
            raise serializers.ValidationError({api_settings.NON_FIELD_ERRORS_KEY: [unknown]})
        repeated = {
            name: [REPEATED_QUERY_PARAMETER.format(name=name, values=quoted_values(values))]
            for name, values in request.query_params.lists()
            if len(values) > 1
        }
        if repeated:
            raise serializers.ValidationError(repeated)
