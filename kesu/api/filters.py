"""List filters: the complaint list uses the web list's ComplaintFilter (same names, same meaning)."""

from __future__ import annotations

import django_filters as df
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from kesu.complaints.filters import ComplaintFilter
from kesu.complaints.models import Category
from kesu.org.choices import DepartmentType
from kesu.org.models import Department, Office, Resident, Unit


@extend_schema_field(OpenApiTypes.STR)
class CodeFilter(df.ModelMultipleChoiceFilter):
    """By code (office Y01, category facilities); repeat the parameter for several."""


class ApiComplaintFilter(ComplaintFilter):
    # The shared filter, with office and category typed as plain codes in the OpenAPI schema.
    office = CodeFilter(
        field_name="office__code",
        to_field_name="code",
        queryset=Office.objects.all(),
        label=_("管理处编码"),
        distinct=False,
    )
    category = CodeFilter(
        field_name="category__code",
        to_field_name="code",
        queryset=Category.objects.all(),
        label=_("分类编码"),
        distinct=False,
    )

    class Meta(ComplaintFilter.Meta):
        pass


class DepartmentFilter(df.FilterSet):
    office = df.CharFilter(field_name="office__code", label=_("管理处编码"))
    type = df.ChoiceFilter(choices=DepartmentType.choices, label=_("类型"))

    class Meta:
        model = Department
        fields: list[str] = []


class UnitFilter(df.FilterSet):
    office = df.CharFilter(field_name="building__office__code", label=_("管理处编码"))
    q = df.CharFilter(method="filter_q", label=_("房号或编码，如 3栋-1201"))

    class Meta:
        model = Unit
        fields: list[str] = []

    def filter_q(self, qs, name, value):
        value = (value or "").strip()
        return qs.filter(code__icontains=value) if value else qs


class ResidentFilter(df.FilterSet):
    office = df.CharFilter(field_name="unit__building__office__code", label=_("管理处编码"))
    unit = df.CharFilter(field_name="unit__code", label=_("房屋编码"))
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
