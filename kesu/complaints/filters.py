"""The complaint list filter, shared by the web list, the xlsx export and the API (same names)."""

from __future__ import annotations

import datetime as dt

import django_filters as df
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kesu.org.models import Department, Office

from .choices import Channel, Deadline, Nature, Severity, Status
from .deadlines import overdue_q
from .models import Category, Complaint
from .policy import settled_at_counter_q
from .search import search_q

_NUMBER = r"^[A-Za-z0-9]+-\d{6}-\d{4}$"


def _sane_year(value: dt.date) -> None:
    # The filter adds a day and converts to the company zone: 9999-12-31 would overflow.
    if not 1970 <= value.year <= 2999:
        raise ValidationError(_("日期须在 1970 年至 2999 年之间。"))


class ComplaintFilter(df.FilterSet):
    # distinct=False throughout: columns of the complaint or to-one joins never repeat a row, and
    # SELECT DISTINCT over every column would sort all matches for each page.
    office = df.ModelMultipleChoiceFilter(
        field_name="office__code",
        to_field_name="code",
        queryset=Office.objects.all(),
        label=_("管理处"),
        distinct=False,
    )
    status = df.MultipleChoiceFilter(choices=Status.choices, label=_("状态"), distinct=False)
    nature = df.MultipleChoiceFilter(choices=Nature.choices, label=_("性质"), distinct=False)
    severity = df.MultipleChoiceFilter(choices=Severity.choices, label=_("严重程度"), distinct=False)
    category = df.ModelMultipleChoiceFilter(
        field_name="category__code",
        to_field_name="code",
        queryset=Category.objects.all(),
        label=_("分类"),
        distinct=False,
    )
    department = df.ModelChoiceFilter(queryset=Department.objects.all(), label=_("责任部门"))
    channel = df.MultipleChoiceFilter(choices=Channel.choices, label=_("渠道"), distinct=False)
    is_major = df.BooleanFilter(label=_("重大投诉"))
    overdue = df.ChoiceFilter(
        choices=[("any", _("任一超时")), *Deadline.choices], method="filter_overdue", label=_("超时")
    )
    received_after = df.DateFilter(
        method="filter_received_after", label=_("受理日期从"), validators=[_sane_year]
    )
    received_before = df.DateFilter(
        method="filter_received_before", label=_("受理日期至"), validators=[_sane_year]
    )
    repeat = df.BooleanFilter(method="filter_repeat", label=_("仅重复投诉"))
    # The report counts enquiries settled at the counter apart; its drill-downs ask for them or not.
    on_spot_enquiry = df.BooleanFilter(method="filter_on_spot_enquiry", label=_("当场答复的咨询"))
    q = df.CharFilter(method="filter_q", label=_("搜索"))

    class Meta:
        model = Complaint
        fields: list[str] = []

    def filter_overdue(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        return qs.filter(overdue_q(None if value == "any" else value)) if value else qs

    @staticmethod
    def _day_start(day: dt.date) -> dt.datetime:
        return timezone.make_aware(dt.datetime.combine(day, dt.time.min))

    def filter_received_after(self, qs: QuerySet, name: str, value: dt.date) -> QuerySet:
        return qs.filter(received_at__gte=self._day_start(value)) if value else qs

    def filter_received_before(self, qs: QuerySet, name: str, value: dt.date) -> QuerySet:
        # Inclusive of the whole day, in the company's time zone.
        return qs.filter(received_at__lt=self._day_start(value + dt.timedelta(days=1))) if value else qs

    def filter_repeat(self, qs: QuerySet, name: str, value: bool | None) -> QuerySet:
        if value is None:
            return qs
        return qs.filter(Q(repeat_of__isnull=False) | Q(repeats__isnull=False)).distinct() if value else qs

    def filter_on_spot_enquiry(self, qs: QuerySet, name: str, value: bool | None) -> QuerySet:
        if value is None:
            return qs
        return qs.filter(settled_at_counter_q()) if value else qs.exclude(settled_at_counter_q())

    def filter_q(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        value = (value or "").strip()
        if not value:
            return qs
        import re

        if re.match(_NUMBER, value):
            return qs.filter(number__iexact=value)
        # The searcher decides which complainant fields may match (search.search_q); no request, no viewer.
        viewer = getattr(self.request, "user", None)
        return qs.filter(search_q(value, viewer if viewer is not None and viewer.is_authenticated else None))
