"""List filters. The OpenAPI parameters are read from these classes (`schema.ApiFilterExtension`), so
what the schema declares is what is accepted:

- an empty value (`office=`) is no filter, exactly as if the parameter were absent (for every API
  query parameter: `views.ApiMixin`; `allowEmptyValue: true` in the schema);
- every other value is checked by the filter's form field; anything the field refuses is a 400
  problem+json naming the parameter. A form field's bounds (`min_value`/`max_value`, `min_length`/
  `max_length`, `pattern`) are the schema's (`minimum`/`maximum`, `minLength`/`maxLength`, `pattern`).

The complaint list uses the web list's ComplaintFilter (same names, same meaning), with the
parameters whose web forms are lenient (booleans, dates, the department) made exact.
"""

from __future__ import annotations

import datetime as dt
import re

import django_filters as df
from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from kesu.complaints.filters import ComplaintFilter, sane_year
from kesu.complaints.models import Category
from kesu.org.choices import DepartmentType
from kesu.org.models import Department, Office, Resident, Unit

MAX_ID = 2**63 - 1  # BigAutoField


class ApiFilterBackend(DjangoFilterBackend):
    """The API's filter backend; its schema comes from `schema.ApiFilterExtension`."""


# --- fields: exact about what they accept, and each says so in the schema ---


class BooleanField(forms.Field):
    """`true` or `false` (any letter case); anything else is an error, never a silent "no filter"."""

    default_error_messages = {"invalid": _("须为 true 或 false。")}

    def to_python(self, value):
        if value in self.empty_values:
            return None
        word = str(value).lower()
        if word not in ("true", "false"):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return word == "true"

    def validate(self, value):
        pass


class IdField(forms.ModelChoiceField):
    """A row by its numeric id (1 … 2^63-1); an id that names no row is an error too."""

    min_value, max_value = 1, MAX_ID
    default_error_messages = {"invalid_id": _("须为 1 至 %(max)s 之间的整数。")}

    def to_python(self, value):
        if value in self.empty_values:
            return None
        text = str(value)
        if not (text.isascii() and text.isdigit() and len(text) <= 19 and 1 <= int(text) <= self.max_value):
            raise forms.ValidationError(
                self.error_messages["invalid_id"], code="invalid_id", params={"max": self.max_value}
            )
        return super().to_python(int(text))


class IsoDateField(forms.DateField):
    """YYYY-MM-DD only, years 1970–2999 (as `sane_year`); the pattern is also the schema's."""

    pattern = r"^(19[7-9][0-9]|2[0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
    default_error_messages = {"invalid": _("日期格式应为 YYYY-MM-DD（1970 年至 2999 年）。")}

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if not re.fullmatch(self.pattern, str(value)):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None


@extend_schema_field(OpenApiTypes.BOOL)
class BooleanFilter(df.BooleanFilter):
    field_class = BooleanField


@extend_schema_field({"type": "integer"})
class IdFilter(df.ModelChoiceFilter):
    field_class = IdField


class DateFilter(df.DateFilter):
    field_class = IsoDateField


@extend_schema_field(OpenApiTypes.STR)
class CodeFilter(df.ModelMultipleChoiceFilter):
    """By code (office Y01, category facilities); repeat the parameter for several; an unknown code is
    an error."""


def office_filter(field_name: str) -> CodeFilter:
    return CodeFilter(
        field_name=field_name,
        to_field_name="code",
        queryset=Office.objects.all(),
        label=_("管理处编码"),
        help_text="Office code, e.g. Y01; repeat for several. An unknown code is a 400.",
        distinct=False,
    )


# --- the lists ---


class ApiComplaintFilter(ComplaintFilter):
    office = office_filter("office__code")
    category = CodeFilter(
        field_name="category__code",
        to_field_name="code",
        queryset=Category.objects.all(),
        label=_("分类编码"),
        help_text="Category code, e.g. facilities; repeat for several. An unknown code is a 400.",
        distinct=False,
    )
    department = IdFilter(
        queryset=Department.objects.all(),
        label=_("责任部门"),
        help_text="Department id (from /departments/). An unknown id is a 400.",
    )
    is_major = BooleanFilter(label=_("重大投诉"), help_text="true: major complaints only; false: the others.")
    repeat = BooleanFilter(
        method="filter_repeat",
        label=_("重复投诉"),
        help_text="true: repeat complaints (a repeat of another, or repeated by one); false: the others.",
    )
    received_after = DateFilter(
        method="filter_received_after",
        label=_("受理日期从"),
        validators=[sane_year],
        help_text="Received on or after this day (YYYY-MM-DD, company time zone).",
    )
    received_before = DateFilter(
        method="filter_received_before",
        label=_("受理日期至"),
        validators=[sane_year],
        help_text="Received on or before this day (YYYY-MM-DD, company time zone).",
    )

    class Meta(ComplaintFilter.Meta):
        pass

    def filter_repeat(self, qs: QuerySet, name: str, value: bool | None) -> QuerySet:
        if value is None:
            return qs
        repeats = Q(repeat_of__isnull=False) | Q(repeats__isnull=False)
        return qs.filter(repeats).distinct() if value else qs.exclude(repeats)


class DepartmentFilter(df.FilterSet):
    office = office_filter("office__code")
    type = df.ChoiceFilter(choices=DepartmentType.choices, label=_("类型"))

    class Meta:
        model = Department
        fields: list[str] = []


class UnitFilter(df.FilterSet):
    office = office_filter("building__office__code")
    q = df.CharFilter(method="filter_q", label=_("房号或编码，如 3栋-1201"))

    class Meta:
        model = Unit
        fields: list[str] = []

    def filter_q(self, qs, name, value):
        value = (value or "").strip()
        return qs.filter(code__icontains=value) if value else qs


class ResidentFilter(df.FilterSet):
    office = office_filter("unit__building__office__code")
    unit = df.CharFilter(
        field_name="unit__code", label=_("房屋编码"), help_text="Exact unit code; no match: an empty list."
    )
    q = df.CharFilter(method="filter_q", label=_("姓名、电话或房号"))

    class Meta:
        model = Resident
        fields: list[str] = []

    def filter_q(self, qs, name, value):
        value = (value or "").strip()
        if not value:
            return qs
        q = Q(name__icontains=value) | Q(unit__code__icontains=value)
        digits = "".join(ch for ch in value if ch.isdigit())
        if len(digits) >= 4:
            q |= Q(phone__contains=digits)
        return qs.filter(q)
