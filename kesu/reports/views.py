"""Report pages, downloads and the JSON endpoint. Thin: parse, compute (scoped), render."""

from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from kesu.complaints.scope import covered_offices

from . import dashboard as dash
from .monthly import ReportAccessError, can_view_reports, compute, trend
from .period import Period, PeriodError, add_months
from .render import FORMATS, document_context, filename
from .render import render as render_report


def last_month() -> str:
    today = timezone.localdate()
    return add_months(today.replace(day=1), -1).strftime("%Y-%m")


def _period(request: HttpRequest, default_month: str | None) -> Period:
    month = request.GET.get("month") or default_month
    if not month:
        raise PeriodError("month", _("请指定月份，例如 month=2026-02。"))
    return Period.parse(month, request.GET.get("to") or None)


@require_GET
def monthly_page(request: HttpRequest) -> HttpResponse:
    """The report on screen (ECharts, drill-down), or as a file with ?format=xlsx|docx|pdf|json|html."""
    user = request.user
    if not user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not can_view_reports(user):
        return render(request, "reports/denied.html", status=403)
    fmt = request.GET.get("format", "")
    error = None
    try:
        period = _period(request, last_month())
        office = request.GET.get("office") or None
        report = compute(user, period, office)
    except PeriodError as e:
        error, period, office = e.message, Period.parse(last_month()), None
        report = compute(user, period)
    except ReportAccessError as e:
        if e.status != 404:
            return render(request, "reports/denied.html", {"message": e.message}, status=e.status)
        error, office = e.message, None
        report = compute(user, period)
    if fmt and fmt in FORMATS and error is None:
        t = trend(user, period, office) if fmt in ("docx", "pdf", "html") else None
        response = HttpResponse(render_report(report, fmt, t), content_type=FORMATS[fmt])
        response["Content-Disposition"] = f'attachment; filename="{filename(report, fmt)}"'
        return response
    offices = covered_offices(user)
    chart_data = {
        "by_nature": report["by_nature"],
        "valid_by_category": report["valid_by_category"],
        "valid_by_office": report["valid_by_office"] if report["scope"]["type"] != "office" else [],
    }
    t = trend(user, period, office)
    chart_data["trend"], chart_data["trend_since_label"] = t["months"], t["data_since_label"]
    context = document_context(
        report,
        links=True,
        charts=True,
        error=error,
        offices=offices.order_by("code"),
        month=period.first.strftime("%Y-%m"),
        to=period.last.strftime("%Y-%m") if period.months > 1 else "",
        office=(report["scope"]["office"] or {}).get("code", "") if office else "",
        formats=[("xlsx", "Excel"), ("docx", "Word"), ("pdf", "PDF"), ("json", "JSON")],
        query=request.GET.urlencode(),
        chart_data=chart_data,
    )
    return render(request, "reports/monthly.html", context)


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and request.user.is_company_wide:
        return redirect("reports:dashboard")
    return redirect("reports:monthly")


@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not user.is_company_wide:
        return render(
            request,
            "reports/denied.html",
            {"message": _("看板仅供公司品质管理部、公司领导查看。")},
            status=403,
        )
    data = dash.compute_dashboard(user, now=timezone.now())
    return render(
        request,
        "reports/dashboard.html",
        {
            "d": data,
            "chart_data": dash.chart_data(data),
        },
    )
