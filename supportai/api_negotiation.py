"""Content negotiation of the tenant API (``DEFAULT_CONTENT_NEGOTIATION_CLASS``).

Its own module: ``rest_framework.views`` imports the class as it loads, so this one cannot import views.
"""

from __future__ import annotations

from collections.abc import Iterable

from rest_framework import serializers
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer

from supportai.quoted import Quoted

# DRF answered a ?format= that no renderer has with a bare 404 "Not found.".
UNKNOWN_FORMAT = "There is no format {value}; the formats are {formats}."


class FormatNegotiation(DefaultContentNegotiation):
    """DRF's negotiation, but a ``?format=`` that none of the view's renderers has is a 400 under the
    parameter's name, naming the formats there are, not DRF's bare 404 "Not found." (which on a
    document's address reads as "no such document"). The answer is JSON: DRF renders an error raised
    here with the view's first renderer."""

    def filter_renderers(self, renderers: Iterable[BaseRenderer], format: str) -> list[BaseRenderer]:
        renderers = list(renderers)
        if kept := [renderer for renderer in renderers if renderer.format == format]:
            return kept
        formats = ", ".join(dict.fromkeys(str(renderer.format) for renderer in renderers))
        message = UNKNOWN_FORMAT.format(value=repr(Quoted(format)), formats=formats)
        raise serializers.ValidationError({self.settings.URL_FORMAT_OVERRIDE or "format": [message]})
