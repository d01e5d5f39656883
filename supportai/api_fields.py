"""Serializer fields that take a value only as the OpenAPI schema describes it, in every body type.

DRF's fields convert JSON values: ``0`` becomes the string ``"0"``, ``"5"`` the integer 5, ``"yes"``
true. The schema promises string, integer and boolean, and a client that sends another type has a bug
worth hearing about (400, the field's usual "invalid" message). A form body's values are all text, so
there DRF's conversion stays; but DRF reads an optional form field sent empty (``mode=``) as absent,
where the same empty value in JSON is refused: here it is a value in both, refused unless the field
may be blank.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.validators import RegexValidator
from django.http import QueryDict
from rest_framework import serializers
from rest_framework.utils import html

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
