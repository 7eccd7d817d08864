"""Render one computed report (kesu.reports.monthly.compute) to a file format; all read the same dict."""

from __future__ import annotations

import base64
import json

FORMATS: dict[str, str] = {
    "html": "text/html; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
    "json": "application/json",
}


def to_json(report: dict) -> bytes:
    return json.dumps(report, ensure_ascii=False, indent=2).encode()


def render(report: dict, fmt: str, trend: dict | None = None) -> bytes:
    if fmt == "json":
        return to_json(report)
    if fmt == "xlsx":
        from .xlsx import render_xlsx

        return render_xlsx(report)
    from .charts import all_charts

    charts = all_charts(report, trend)
    if fmt == "docx":
        from .docx import render_docx

        return render_docx(report, charts)
    if fmt == "pdf":
        from .pdf import render_pdf

        return render_pdf(report, charts)
    if fmt == "html":
        from django.template.loader import render_to_string

        images = {k: base64.b64encode(v).decode() for k, v in charts.items()}
        return render_to_string(
            "reports/monthly_document.html", document_context(report, images=images)
        ).encode()
    raise ValueError(f"unknown format {fmt!r}")


def document_context(report: dict, **extra) -> dict:
    """Template context shared by the standalone HTML file and the web page."""
    from . import common

    return {
        "r": report,
        "sections": common.summary_subsections(report["summary"]),
        "nature_sentence": common.nature_sentence(report),
        "direct_sentence": common.direct_sentence(report),
        "households_sentence": common.households_sentence(report),
        "period_line": common.period_line(report),
        "issued_on": common.issued_on(report),
        "annexes": common.annexes(report),
        **extra,
    }


def filename(report: dict, fmt: str) -> str:
    scope = report["scope"]["office"]["code"] if report["scope"]["office"] else "company"
    return f"kesu-monthly-{report['period']['code'].replace('..', '_')}-{scope}.{fmt}"
