"""Serializer fields shared by the API: stable codes out, bounded timestamps in."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

# Far enough for any real complaint, near enough that converting to the company zone cannot overflow.
MIN_YEAR, MAX_YEAR = 1970, 2999


class TimestampField(serializers.DateTimeField):
    """ISO 8601 with offset; an input without an offset is read in the company's time zone."""

    default_error_messages = {"range": _("时间须在 1970 年至 2999 年之间。")}

    def to_internal_value(self, value):
        result = super().to_internal_value(value)
        if not (MIN_YEAR <= result.year <= MAX_YEAR):
            self.fail("range")
        return result


class CodeField(serializers.ChoiceField):
    """A stable code from a choices enum; an empty value is `null` on output."""

    def __init__(self, choices, **kwargs):
        kwargs.setdefault("allow_null", True)
        super().__init__(choices, **kwargs)

    def to_representation(self, value):
        if value in ("", None):
            return None
        return super().to_representation(value)


@extend_schema_field({"type": "string", "nullable": True})
class SlugOrNull(serializers.Field):
    """Read-only: an attribute path of a related object (e.g. office.code), or null."""

    def __init__(self, path: str, annotation: str = "", **kwargs):
        self.path = path.split(".")
        # When the queryset annotated the value (list views), no related object is loaded at all.
        self.annotation = annotation
        kwargs["read_only"] = True
        kwargs["source"] = "*"
        super().__init__(**kwargs)

    def to_representation(self, value):
        if self.annotation and self.annotation in value.__dict__:
            return value.__dict__[self.annotation]
        for part in self.path:
            value = getattr(value, part, None)
            if value is None:
                return None
        return value
