"""Request parsers of the tenant REST API (``REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"]``)."""

from __future__ import annotations

from typing import Any

from rest_framework import parsers
from rest_framework.exceptions import ParseError

JSON_TOO_DEEP = "JSON parse error - the body is nested deeper than the server reads; send a flatter one."


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, with a body nested deeper than Python's decoder goes (``[[[…``) a 400 like
    other malformed JSON: DRF catches only the decoder's ValueError, and the RecursionError was a 500."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise ParseError(JSON_TOO_DEEP) from exc
