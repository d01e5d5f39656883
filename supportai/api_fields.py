"""Serializer fields that take a value only as the OpenAPI schema describes it, in every body type.

DRF's fields convert JSON values: ``0`` becomes the string ``"0"``, ``"5"`` the integer 5, ``"yes"``
true. The schema promises string, integer and boolean, and a client that sends another type has a bug
worth hearing about (400, the field's usual "invalid" message). A form body's values are all text, so
there DRF's conversion stays; but DRF reads an optional form field sent empty (``mode=``) as absent,
where the same empty value in JSON is refused: here it is a value in both, refused unless the field
may be blank.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.core.validators import RegexValidator
from django.http import QueryDict
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers
from rest_framework.settings import api_settings
from rest_framework.utils import html

from supportai.quoted import Quoted

# What str.strip trims (the str.isspace characters).
_WHITESPACE = r"\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"


class _SchemaPattern(RegexValidator):
    """A pattern for the schema only: DRF's own checks enforce it, with their messages."""

    def __call__(self, value: Any) -> None:
        return None


# What DRF's CharField accepts when it may not be blank: no null character, and something left
# once it trims the whitespace (so "\x0b" is no valid query, though minLength 1 would say it is).
NOT_BLANK = _SchemaPattern(rf"^[^\x00]*[^\x00{_WHITESPACE}][^\x00]*$")


def _from_json(field: serializers.Field[Any, Any, Any, Any]) -> bool:
    return not isinstance(getattr(field.root, "initial_data", None), QueryDict)


class _EmptyIsAValue(serializers.Field[Any, Any, Any, Any]):
    def get_value(self, dictionary: Mapping[str, Any]) -> Any:
        if html.is_html_input(dictionary) and dictionary.get(self.field_name or "") == "":
            return ""
        return super().get_value(dictionary)


class StrictCharField(_EmptyIsAValue, serializers.CharField):
    def to_internal_value(self, data: Any) -> str:
        if _from_json(self) and not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictChoiceField(_EmptyIsAValue, serializers.ChoiceField):
    pass


class StrictIntegerField(_EmptyIsAValue, serializers.IntegerField):
    def to_internal_value(self, data: Any) -> int:
        # An int of any size (float() of 10**400 overflows), or a float with nothing after the point.
        whole = (isinstance(data, int) and not isinstance(data, bool)) or (
            isinstance(data, float) and data.is_integer()
        )
        if _from_json(self) and not whole:
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(_EmptyIsAValue, serializers.BooleanField):
    def to_internal_value(self, data: Any) -> bool:
        if _from_json(self) and not isinstance(data, bool):
            self.fail("invalid")
        return super().to_internal_value(data)


# A field an operation does not take is refused, not ignored: a misspelt one ("url" for "start_url")
# would leave its default in place without a word.
UNKNOWN_FIELDS = "Unknown field{plural} {names}; the fields are {accepted}."
# A form field given twice, which DRF reads as its last value (a JSON body's keys come parsed, once each).
REPEATED_FIELD = "Give one {name}; the body has {values}."
# How many of the unknown names the message quotes.
UNKNOWN_NAMED = 10


def unknown_fields_error(sent: Iterable[str], accepted: Iterable[str], template: str = UNKNOWN_FIELDS) -> str:
    """The message refusing the names in ``sent`` that are not ``accepted`` ("" when there is none):
    the first ``UNKNOWN_NAMED`` quoted, cut and escaped (``Quoted``), then the accepted ones, in
    ``template``'s words (``UNKNOWN_FIELDS``: a body's fields)."""
    fields = list(accepted)
    unknown = sorted(set(sent) - set(fields))
    if not unknown:
        return ""
    names = quoted_values(unknown)
    return template.format(plural="" if len(unknown) == 1 else "s", names=names, accepted=", ".join(fields))


def quoted_values(values: list[str]) -> str:
    """``'ready', 'failed'``: the first ``UNKNOWN_NAMED`` values quoted, cut and escaped, then how many more."""
    quoted = ", ".join(repr(Quoted(value)) for value in values[:UNKNOWN_NAMED])
    return quoted + (f" and {len(values) - UNKNOWN_NAMED} more" if len(values) > UNKNOWN_NAMED else "")


class KnownFieldsSerializer(serializers.Serializer[Any]):
    """An input serializer that refuses the fields it does not have, under ``non_field_errors`` (a
    name sent may be no text, an unpaired surrogate, that an answer could carry back as a key), and a
    form field of one value sent more than once, under its name, with the body's other errors; its
    request schema says so (``KnownFieldsSchema``)."""

    def to_internal_value(self, data: Any) -> Any:
        errors: dict[str, list[str]] = {}
        if isinstance(data, Mapping) and (unknown := unknown_fields_error(data, self.fields)):
            errors[api_settings.NON_FIELD_ERRORS_KEY] = [unknown]
        if isinstance(data, QueryDict):
            errors.update(
                (name, [REPEATED_FIELD.format(name=name, values=quoted_values(values))])
                for name, values in data.lists()
                if len(values) > 1 and name in self.fields and not isinstance(self.fields[name], serializers.ListField)
            )
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if errors and isinstance(exc.detail, dict):
                raise serializers.ValidationError({**exc.detail, **errors}) from exc
            raise
        if errors:
            raise serializers.ValidationError(errors)
        return value


class KnownFieldsSchema(OpenApiSerializerExtension):
    """A ``KnownFieldsSerializer``'s request body takes no other properties (``additionalProperties: false``)."""

    target_class = KnownFieldsSerializer
    match_subclasses = True

    def map_serializer(self, auto_schema: AutoSchema, direction: str) -> dict[str, Any]:
        schema: dict[str, Any] = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        return {**schema, "additionalProperties": False} if direction == "request" else schema
