"""The xlsx, docx, pdf and html files say what the json says."""

from __future__ import annotations

import io

import pytest
from docx import Document
from openpyxl import load_workbook
from report_support import AS_OF, build_data, settled_enquiry

from kesu.reports.monthly import compute, trend
from kesu.reports.period import Period
from kesu.reports.render import render
from kesu.reports.render.charts import all_charts

FEB = Period.parse("2026-02")


@pytest.fixture
def report(org):
    build_data(org)
    return compute(org.quality, FEB, as_of=AS_OF), trend(org.quality, FEB)


def _rows(ws):
    return [[c for c in row] for row in ws.iter_rows(values_only=True)]


def _find(rows, first):
    return next(r for r in rows if r and r[0] == first)


def test_xlsx_numbers_match_the_json(report):
    r, _t = report
    wb = load_workbook(io.BytesIO(render(r, "xlsx")))
    assert wb.sheetnames == [
        "概况",
        "有效投诉分类",
        "有效投诉管理处",
        "关键指标",
        "总结",
        "附件1 投诉汇总表",
        "附件2 有效投诉汇总表",
    ]
    rows = _rows(wb["概况"])
    assert rows[0][0] == r["title"]
    for v in r["by_nature"].values():
        row = next(x for x in rows if x[0] == v["name"] and len(x) > 3 and x[3] is not None)
        assert row[1] == v["count"] and isinstance(row[1], int)
        assert row[2] == pytest.approx(v["share"] / 100)
    assert _find(rows, "重大投诉")[1] == r["major"]

    cats = _rows(wb["有效投诉分类"])
    for c in r["valid_by_category"]:
        row = _find(cats, c["name"])
        assert (row[1], row[2]) == (c["count"], pytest.approx(c["share"] / 100))
    assert _find(cats, "合计")[1] == r["valid"]
    assert wb["有效投诉分类"]["C5"].number_format == "0.0%"

    kpis = _rows(wb["关键指标"])
    for k in r["kpis"].values():
        row = _find(kpis, k["name"])
        expected = None if k["value"] is None else (k["value"] / 100 if k["unit"] == "%" else k["value"])
        assert row[1] == pytest.approx(expected)
        assert (row[2], row[3]) == (k["numerator"], k["denominator"])

    for sheet, annex in (("附件1 投诉汇总表", r["annex1"]), ("附件2 有效投诉汇总表", r["annex2"])):
        rows = _rows(wb[sheet])
        header = _find(rows, "管理处")
        # annex 1 ends with the enquiries settled at the counter, after 合计 and 占比 (in no total)
        apart = 1 if sheet.startswith("附件1") else 0
        n = len(annex["columns"])
        assert list(header[1 : n + 1]) == [c["name"] for c in annex["columns"]]
        assert list(header[n + 1 :]) == ["合计", "占比"] + ["另：当场答复的咨询（不计入投诉）"] * apart
        for a in annex["rows"]:
            row = _find(rows, a["office"]["name"])
            assert list(row[1 : n + 1]) == [a["counts"][c["code"]] for c in annex["columns"]]
            assert row[n + 1] == a["total"]
            if apart:
                assert row[-1] == a["on_spot_enquiries"]
        total = _find(rows, "合计")
        assert list(total[1 : n + 2]) == [annex["totals"]["counts"][c["code"]] for c in annex["columns"]] + [
            annex["totals"]["total"]
        ]


def test_docx_numbers_and_summary_match_the_json(report):
    r, t = report
    doc = Document(io.BytesIO(render(r, "docx", t)))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert r["title"] in text
    for section in r["summary"]:
        for p in section["paragraphs"]:
            assert p in text
    tables = {tuple(c.text for c in tb.rows[0].cells): tb for tb in doc.tables}
    nature = next(tb for head, tb in tables.items() if head[0] == "性质")
    got = {row.cells[0].text: (int(row.cells[1].text), row.cells[2].text) for row in nature.rows[1:]}
    for v in r["by_nature"].values():
        assert got[v["name"]] == (v["count"], f"{v['share']:.2f}%")
    assert got["合计"][0] == r["total"]
    annexes = [tb for head, tb in tables.items() if head[0] == "管理处" and "占比" in head]
    assert len(annexes) == 2
    for tb, annex in zip(annexes, (r["annex1"], r["annex2"]), strict=True):
        n = len(annex["columns"])
        body = {row.cells[0].text: [c.text for c in row.cells[1:]] for row in tb.rows[1:]}
        for a in annex["rows"]:
            assert [int(x) for x in body[a["office"]["name"]][: n + 1]] == [
                *[a["counts"][c["code"]] for c in annex["columns"]],
                a["total"],
            ]
        assert int(body["合计"][n]) == annex["totals"]["total"]
    assert len(doc.inline_shapes) == 4  # pie, trend, categories, offices


def test_pdf_embeds_the_cjk_font(report):
    r, t = report
    pdf = render(r, "pdf", t)
    assert pdf.startswith(b"%PDF-")
    assert b"KesuCJKSans-Regular" in pdf and b"KesuCJKSans-Bold" in pdf
    assert b"/FontFile2" in pdf  # embedded TrueType, not a font the reader must have


def test_html_document_and_chart_images(report):
    r, t = report
    html = render(r, "html", t).decode()
    assert r["title"] in html and "附件2：有效投诉汇总表" in html and "54.55%" in html
    assert "/complaints/" not in html  # a file on its own: no links into the application
    charts = all_charts(r, t)
    assert set(charts) == {"nature", "category", "office", "trend"}
    assert all(png.startswith(b"\x89PNG") for png in charts.values())


def test_json_output_is_the_report(report):
    import json

    r, _t = report
    assert json.loads(render(r, "json")) == json.loads(json.dumps(r))
    assert {"period", "scope", "total", "by_nature", "major", "valid_by_category", "valid_by_office"} <= set(
        r
    )
    assert {"annex1", "annex2", "kpis", "previous", "summary"} <= set(r)


def test_empty_month_renders_everywhere(org):
    r = compute(org.quality, Period.parse("2025-06"), as_of=AS_OF)
    t = trend(org.quality, Period.parse("2025-06"))
    for fmt in ("xlsx", "docx", "pdf", "html", "json"):
        assert render(r, fmt, t)


def test_rare_characters_are_marked_not_dropped():
    from kesu.reports.fonts import printable

    assert printable("王𠀀先生，喆") == "王〓先生，〓" or printable("王𠀀先生，喆").count("〓") >= 1
    assert printable("设施设备维护 100.00%") == "设施设备维护 100.00%"


def test_a_comparison_with_no_data_says_so_in_every_document(org):
    """December 2025 holds the data set's first complaint: November is 无数据 (json: null) in every file."""
    import json

    build_data(org)
    dec = Period.parse("2025-12")
    r, t = compute(org.quality, dec, as_of=AS_OF), trend(org.quality, dec)
    assert json.loads(render(r, "json"))["previous"]["total"] is None

    wb = load_workbook(io.BytesIO(render(r, "xlsx")))
    overview = _rows(wb["概况"])
    nature = overview[next(i for i, row in enumerate(overview) if row[0] == "二、投诉总体情况") :]
    assert [row[3] for row in nature[2:7]] == ["无数据"] * 5  # four natures and the total
    kpi = _find(_rows(wb["关键指标"]), "回访率")
    assert (kpi[4], kpi[5]) == ("无数据", "无数据")

    doc = Document(io.BytesIO(render(r, "docx", t)))
    nature = next(tb for tb in doc.tables if tb.rows[0].cells[0].text == "性质")
    assert {row.cells[3].text for row in nature.rows[1:]} == {"无数据"}
    kpis = next(tb for tb in doc.tables if tb.rows[0].cells[0].text == "指标")
    assert {(row.cells[3].text, row.cells[4].text) for row in kpis.rows[1:]} == {("无数据", "无数据")}

    html = render(r, "html", t).decode()
    assert "上月无数据" in html and "<td>无数据</td>" in html
    assert render(r, "pdf", t).startswith(b"%PDF-")  # the same tables as Word (render/common.py)


def test_enquiries_settled_at_the_counter_have_their_own_row_in_every_document(org):

    build_data(org)
    settled_enquiry(org)
    r, t = compute(org.quality, FEB, as_of=AS_OF), trend(org.quality, FEB)
    name = "另：当场答复的咨询（不计入投诉）"
    assert r["total"] == 11 and r["on_spot_enquiries"] == 1

    wb = load_workbook(io.BytesIO(render(r, "xlsx")))
    assert _find(_rows(wb["概况"]), "当场答复的咨询（不计入投诉）")[1:3] == [1, 0]
    annex = _rows(wb["附件1 投诉汇总表"])
    assert _find(annex, "管理处")[-1] == name
    assert _find(annex, "翠湖花园")[-1] == 1 and _find(annex, "合计")[-1] == 1

    doc = Document(io.BytesIO(render(r, "docx", t)))
    nature = next(tb for tb in doc.tables if tb.rows[0].cells[0].text == "性质")
    rows = [[c.text for c in row.cells] for row in nature.rows[1:]]
    assert rows[-2][:2] == ["合计", "11"] and rows[-1][:2] == [name, "1"]
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "另有当场答复的咨询 1 件，不计入投诉。" in text

    html = render(r, "html", t).decode()
    assert name in html
