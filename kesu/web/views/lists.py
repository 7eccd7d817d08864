"""The complaint list: the shared ComplaintFilter over the user's scope, sorting, paging, saved
filters, and export of exactly the filtered rows to xlsx (phones masked)."""

from __future__ import annotations

import datetime as dt
import io
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from kesu.complaints.choices import Deadline
from kesu.complaints.deadlines import due_soon_q, pending_q
from kesu.complaints.filters import ComplaintFilter
from kesu.complaints.models import Complaint
from kesu.complaints.scope import complainant_view, offices_for
from kesu.org.models import Department
from kesu.reports.sheets import text_row

from .. import clock
from ..access import staff_view
from ..models import SavedFilter

PAGE_SIZE = 50
LIST_RELATED = ("office", "category", "department", "handler", "unit__building")
SORTS = {
    "-received_at": (gettext_lazy("受理时间（新→旧）"), ["-received_at", "-id"]),
    "received_at": (gettext_lazy("受理时间（旧→新）"), ["received_at", "id"]),
    "resolve_due_at": (gettext_lazy("处理时限（近→远）"), ["resolve_due_at", "id"]),
    "number": (gettext_lazy("编号"), ["number"]),
    "status": (gettext_lazy("状态"), ["status", "-received_at"]),
    "office": (gettext_lazy("管理处"), ["office__code", "-received_at"]),
}
DUE_FILTERS = {
    "soon": gettext_lazy("1小时内到期"),
    "callback": gettext_lazy("待回访"),
}
# Parameters that are not filters (kept out of saved filters and of "filters in use").
NOT_FILTERS = {"page", "sort"}


def filtered(request: HttpRequest) -> tuple[ComplaintFilter, object]:
    """ComplaintFilter over the user's scope, its choices limited to the user's offices, plus the
    workspace's own `due` shortcut (home counters) and the sort order."""
    user = request.user
    offices = offices_for(user)
    # The request gives the search its viewer: the complainant's fields match only for those who may see them.
    f = ComplaintFilter(request.GET or None, queryset=Complaint.objects.visible_to(user), request=request)
    f.filters["office"].queryset = offices
    f.filters["department"].queryset = Department.objects.filter(office__in=offices).select_related("office")
    qs = f.qs
    due = request.GET.get("due")
    if due == "soon":
        qs = qs.filter(due_soon_q(clock.SOON))
    elif due == "callback":
        qs = qs.filter(pending_q(Deadline.CALLBACK))
    sort = request.GET.get("sort", "-received_at")
    order = SORTS.get(sort, SORTS["-received_at"])[1]
    return f, qs.select_related(*LIST_RELATED).order_by(*order)


def _filter_query(request: HttpRequest) -> str:
    pairs = [(k, v) for k in request.GET for v in request.GET.getlist(k) if k not in NOT_FILTERS and v != ""]
    return urlencode(pairs)


@require_GET
@staff_view
def complaint_list(request: HttpRequest) -> HttpResponse:
    f, qs = filtered(request)
    form = f.form
    _widgets(form)
    if f.is_bound and not form.is_valid():
        qs = Complaint.objects.none()
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.now()
    rows = [
        {"c": c, "due": clock.next_due(c, now), "who": complainant_view(request.user, c)}
        for c in page.object_list
    ]
    context = {
        "filter": f,
        "form": form,
        "page": page,
        "rows": rows,
        "sorts": [(k, v[0]) for k, v in SORTS.items()],
        "sort": request.GET.get("sort", "-received_at"),
        "due": request.GET.get("due", ""),
        "due_filters": DUE_FILTERS,
        "query": _filter_query(request),
        "saved": list(SavedFilter.objects.filter(user=request.user)),
        "has_filters": bool(_filter_query(request)),
        "active": active_filters(form, request.GET.get("due", "")),
        "offices_count": len(form.fields["office"].queryset),
    }
    template = (
        "web/list/_results.html"
        if request.htmx and request.htmx.target == "results"
        else "web/list/list.html"
    )
    return render(request, template, context)


# The search box stays in view above the folded panel: the panel's summary names the rest.
NOT_SUMMARISED = {"q"}


def active_filters(form, due: str = "") -> list[dict[str, str]]:
    """The filters in use, each as {label, value} in words ("状态", "已受理、处理中"): the one line the
    folded filter panel shows after a search."""
    if not form.is_bound or not form.is_valid():
        return []
    out = []
    for name, field in form.fields.items():
        value = form.cleaned_data.get(name)
        if name in NOT_SUMMARISED or value in (None, "", [], ()):
            continue
        if hasattr(value, "model"):  # a queryset (offices, categories)
            words = [str(o.name) for o in value]
        elif isinstance(value, list | tuple):
            labels = {str(k): str(v) for k, v in field.choices}
            words = [labels.get(str(v), str(v)) for v in value]
        elif isinstance(value, bool):
            if name == "repeat" and not value:
                continue
            words = [_("是") if value else _("否")]
        elif hasattr(field, "choices") and not hasattr(value, "pk"):
            words = [str(dict(field.choices).get(value, value))]
        elif isinstance(value, dt.date):
            words = [value.isoformat()]
        else:
            words = [
                field.label_from_instance(value) if hasattr(field, "label_from_instance") else str(value)
            ]
        if words:
            out.append({"label": str(field.label), "value": "、".join(words)})
    if due in DUE_FILTERS:
        out.append({"label": _("时限"), "value": str(DUE_FILTERS[due])})
    return out


def _widgets(form) -> None:
    """Checkboxes instead of multi-selects (usable on a phone and by keyboard), date pickers."""
    from django import forms

    for name in ("status", "nature", "severity", "channel", "category", "office"):
        field = form.fields[name]
        field.widget = forms.CheckboxSelectMultiple()
        field.widget.choices = field.choices
    for name in ("received_after", "received_before"):
        form.fields[name].widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    form.fields["q"].widget.attrs.update(type="search", placeholder=_("编号或内容关键词，如：电梯 漏水"))
    form.fields["department"].label_from_instance = lambda d: f"{d.office.code} {d.name}"
    form.fields["department"].empty_label = _("不限")
    # One "no limit" choice: django-filter adds its own empty choice ("---------"), relabelled here.
    overdue = form.fields["overdue"]
    overdue.empty_label = _("不限")
    overdue.choices = [c for c in overdue.choices if c[0] != ""]  # re-wrapped with the new label
    form.fields["is_major"].widget.choices = [("unknown", _("不限")), ("true", _("是")), ("false", _("否"))]
    # The filter reads "true"/"false" (a bare checkbox would send "on", which it ignores).
    form.fields["repeat"].widget = forms.CheckboxInput(
        attrs={"value": "true"}, check_test=lambda v: v in (True, "true", "True", "1")
    )
    form.fields["repeat"].required = False


EXPORT_COLUMNS = [
    (gettext_lazy("编号"), lambda c, who, L: c.number),
    (gettext_lazy("管理处"), lambda c, who, L: c.office.name),
    (gettext_lazy("受理时间"), lambda c, who, L: _local(c.received_at)),
    (gettext_lazy("渠道"), lambda c, who, L: L["channel"].get(c.channel, c.channel)),
    (gettext_lazy("投诉人"), lambda c, who, L: who.name if who.visible else L["secret"]),
    (gettext_lazy("联系电话"), lambda c, who, L: who.phone),
    (gettext_lazy("栋/房号"), lambda c, who, L: who.home),
    (gettext_lazy("投诉内容"), lambda c, who, L: c.content),
    (gettext_lazy("被投诉部门/人员"), lambda c, who, L: c.complained_party),
    (gettext_lazy("性质"), lambda c, who, L: L["nature"].get(c.nature, "")),
    (gettext_lazy("重大投诉"), lambda c, who, L: L["yes"] if c.is_major else ""),
    (gettext_lazy("严重程度"), lambda c, who, L: L["severity"].get(c.severity, "")),
    (gettext_lazy("分类"), lambda c, who, L: c.category.name if c.category_id else ""),
    (gettext_lazy("状态"), lambda c, who, L: L["status"].get(c.status, c.status)),
    (gettext_lazy("责任部门"), lambda c, who, L: c.department.name if c.department_id else ""),
    (gettext_lazy("处理人"), lambda c, who, L: str(c.handler) if c.handler_id else ""),
    (gettext_lazy("处理时限"), lambda c, who, L: _local(c.resolve_due_at)),
    (gettext_lazy("处理完成时间"), lambda c, who, L: _local(c.resolved_at)),
    (gettext_lazy("处理结果"), lambda c, who, L: c.resolution),
    (gettext_lazy("回访时间"), lambda c, who, L: _local(c.called_back_at)),
    (gettext_lazy("满意度"), lambda c, who, L: L["satisfaction"].get(c.satisfaction, "")),
    (gettext_lazy("结案时间"), lambda c, who, L: _local(c.closed_at)),
]


def _export_labels() -> dict:
    """Choice labels translated once per export, not once per cell (lazy labels are slow in bulk)."""
    from kesu.complaints.choices import Channel, Nature, Satisfaction, Severity, Status

    def table(choices):
        return {code: str(label) for code, label in choices.choices}

    return {
        "channel": table(Channel),
        "nature": table(Nature),
        "severity": table(Severity),
        "status": table(Status),
        "satisfaction": table(Satisfaction),
        "secret": _("（保密）"),
        "yes": _("是"),
    }


def _local(value):
    return timezone.localtime(value).replace(tzinfo=None) if value else None


@require_GET
@staff_view
def export(request: HttpRequest) -> HttpResponse:
    """Exactly the rows the list shows for these filters (every page), as xlsx."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    f, qs = filtered(request)
    if f.is_bound and not f.form.is_valid():
        qs = Complaint.objects.none()
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(_("投诉列表"))
    widths = [18, 12, 17, 8, 10, 14, 12, 60, 16, 12, 8, 8, 12, 12, 10, 10, 17, 17, 40, 17, 10, 17]
    for i, w in enumerate(widths):
        ws.column_dimensions[chr(ord("A") + i)].width = w
    bold = Font(bold=True)
    header = []
    for title, _fn in EXPORT_COLUMNS:
        cell = WriteOnlyCell(ws, value=str(title))
        cell.font = bold
        header.append(cell)
    ws.append(header)
    user = request.user
    labels = _export_labels()
    for c in qs.iterator(chunk_size=1000):
        who = complainant_view(user, c)
        ws.append(text_row(ws, [fn(c, who, labels) for _title, fn in EXPORT_COLUMNS]))
    buf = io.BytesIO()
    wb.save(buf)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = HttpResponse(
        buf.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="complaints-{stamp}.xlsx"'
    return response


@require_POST
@staff_view
def save_filter(request: HttpRequest) -> HttpResponse:
    name = (request.POST.get("name") or "").strip()[:40]
    query = (request.POST.get("query") or "").strip()[:2000]
    if not name:
        messages.error(request, _("请为筛选条件起一个名字。"))
    else:
        SavedFilter.objects.update_or_create(user=request.user, name=name, defaults={"query": query})
        messages.success(request, _("已保存筛选“%(name)s”。") % {"name": name})
    return redirect(reverse("web:list") + (f"?{query}" if query else ""))


@require_POST
@staff_view
def delete_filter(request: HttpRequest, pk: int) -> HttpResponse:
    saved = get_object_or_404(SavedFilter, pk=pk, user=request.user)
    saved.delete()
    messages.success(request, _("已删除筛选“%(name)s”。") % {"name": saved.name})
    return redirect("web:list")
