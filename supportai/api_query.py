"""Query parameters a read of the tenant API does not take, or gets more than once, are refused, not ignored.

``GET /api/v1/knowledge/documents/?stauts=failed`` (a typo) or ``?source_id=3`` (a wrong name) listed
every document as if filtered. A view built on ``KnownQueryApiView`` answers such a GET with a 400
naming the unknown parameters and those it takes, in the words and place of a body's unknown fields
(``supportai.api_fields.KnownFieldsSerializer``: under ``non_field_errors``); and one with a parameter
given twice (``?status=ready&status=failed``, which read as the last value) with a 400 under its name.
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
# A parameter given twice would be read as its last value (?status=ready&status=failed as failed only).
REPEATED_QUERY_PARAMETER = "Give one {name}; the query has {values}."
# For the 400 of an operation's schema (supportai.api_errors.error_responses).
QUERY_PARAMETERS_ERROR = (
    "a query parameter the operation does not take (under non_field_errors, naming it and those it takes), "
    "or one given more than once (under its name), or a format the API has no renderer for (under format)"
)
# Methods whose query parameters are checked: the reads (DRF answers HEAD with the GET handler).
_READS = ("GET", "HEAD")


def format_parameters() -> tuple[str, ...]:
    """The query parameters DRF itself reads on every view: ``?format=`` picks the renderer (json, or api
    for the browsable API) unless ``URL_FORMAT_OVERRIDE`` is off."""
    override = api_settings.URL_FORMAT_OVERRIDE
    return (override,) if override else ()


class KnownQueryApiView(APIView):
    """An ``APIView`` whose reads refuse the query parameters they do not take (``query_serializer``'s
    fields, the view's filters and page that it validates itself, and ``format_parameters()``), and
    those given more than once.

    The check runs once the request is authenticated, allowed and within its rate (a request without a
    key is told 401 first), and before the handler reads anything.
    """

    query_serializer: type[serializers.Serializer[Any]] | None = None

    def query_parameters(self) -> list[str]:
        taken = list(self.query_serializer().fields) if self.query_serializer is not None else []
        return [*taken, *(name for name in format_parameters() if name not in taken)]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if request.method not in _READS:
            return
        accepted = self.query_parameters()
        template = UNKNOWN_QUERY_PARAMETERS if accepted else NO_QUERY_PARAMETERS
        if unknown := unknown_fields_error(request.query_params, accepted, template):
            raise serializers.ValidationError({api_settings.NON_FIELD_ERRORS_KEY: [unknown]})
        repeated = {
            name: [REPEATED_QUERY_PARAMETER.format(name=name, values=quoted_values(values))]
            for name, values in request.query_params.lists()
            if len(values) > 1
        }
        if repeated:
            raise serializers.ValidationError(repeated)
