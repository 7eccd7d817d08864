"""Report pages, downloads and the JSON endpoint: scoped like everything else."""

from __future__ import annotations

import pytest
from report_support import build_data, settled_enquiry

API = "/api/v1/reports/monthly/"
PAGE = "/reports/monthly/"


@pytest.fixture
def data(org):
    return build_data(org)


def listed(client, url: str) -> int | None:
    """How many complaints the list at `url` says it holds (共 N 件)."""
    import html
    import re

    found = re.search(r"共 (\d+) 件", client.get(html.unescape(url)).content.decode())
    return int(found.group(1)) if found else None


def _login(client, user):
    client.force_login(user)
    return client


def test_api_requires_login(client, db):
    res = client.get(API, {"month": "2026-02"})
    assert res.status_code == 401
    assert res["Content-Type"] == "application/problem+json"
    assert res.json()["type"] == "urn:kesu:problem:not_authenticated"


def test_api_rejects_a_bad_month_by_field(client, org):
    res = _login(client, org.quality).get(API, {"month": "2026-2"})
    assert res.status_code == 400
    body = res.json()
    assert set(body) >= {"type", "title", "status", "detail", "errors"}
    assert "month" in body["errors"]
    res = client.get(API, {"month": "2026-03", "to": "2026-01"})
    assert res.status_code == 400 and "to" in res.json()["errors"]
    assert client.get(API).status_code == 400


def test_api_returns_the_report(client, org, data):
    body = _login(client, org.quality).get(API, {"month": "2026-02"}).json()
    assert body["total"] == 11 and body["by_nature"]["valid"]["count"] == 6
    assert body["scope"]["type"] == "company"


def test_api_scopes_a_director_to_their_office(client, org, data):
    body = _login(client, org.director2).get(API, {"month": "2026-02"}).json()
    assert body["scope"]["office"]["code"] == "Y02" and body["total"] == 4
    res = client.get(API, {"month": "2026-02", "office": "Y01"})
    assert res.status_code == 404 and res["Content-Type"] == "application/problem+json"


def test_api_refuses_department_staff(client, org, data):
    assert _login(client, org.handler).get(API, {"month": "2026-02"}).status_code == 403


def test_page_shows_the_report_with_drill_down_links(client, org, data):
    res = _login(client, org.quality).get(PAGE, {"month": "2026-02"})
    assert res.status_code == 200
    html = res.content.decode()
    assert "示范物业2026年2月客户投诉工作月报" in html
    assert (
        "/complaints/?nature=valid&amp;category=facilities&amp;received_after=2026-02-01&amp;received_before=2026-02-28"
        in html
    )
    assert "office=Y01&amp;nature=valid" in html
    assert "vendor/echarts-5.6.0.min.js" in html and 'id="rp-data"' in html
    assert "本月公司直接受理投诉 1 宗，其中有效投诉 1 宗。" in html
    # several months (the source report's 1-2月): 本期, January's 2 and February's 11
    two = client.get(PAGE, {"month": "2026-01", "to": "2026-02"}).content.decode()
    assert "本期共受理客户投诉 13 宗" in two


def test_page_downloads_each_format(client, org, data):
    _login(client, org.director)
    for fmt, ctype in (
        ("xlsx", "spreadsheetml"),
        ("docx", "wordprocessingml"),
        ("pdf", "application/pdf"),
        ("json", "application/json"),
    ):
        res = client.get(PAGE, {"month": "2026-02", "format": fmt})
        assert res.status_code == 200 and ctype in res["Content-Type"]
        assert res["Content-Disposition"].endswith(f'-Y01.{fmt}"')


def test_page_redirects_anonymous_to_login(client, db):
    res = client.get(PAGE)
    assert res.status_code == 302 and "/login/" in res["Location"]


def test_dashboard_is_for_company_roles(client, org, data):
    res = _login(client, org.quality).get("/reports/dashboard/")
    assert res.status_code == 200
    assert "超时投诉（按管理处，实时）" in res.content.decode()
    assert _login(client, org.director).get("/reports/dashboard/").status_code == 403


@pytest.fixture
def _back_to_chinese():
    from django.utils import translation

    yield
    translation.activate("zh-hans")


@pytest.mark.usefixtures("_back_to_chinese")
def test_report_pages_speak_english_around_a_chinese_report(client, org, data):
    _login(client, org.quality)
    en = {"HTTP_ACCEPT_LANGUAGE": "en"}
    html = client.get(PAGE, {"month": "2026-02"}, **en).content.decode()
    assert 'lang="en"' in html
    for words in ("Month", "Whole company", "Download:", "Click a number to see the complaints behind it."):
        assert words in html, words
    assert "点击数字可查看对应的投诉清单" not in html and "下载：" not in html
    assert "示范物业2026年2月客户投诉工作月报" in html  # the report itself is the company's Chinese document

    html = client.get("/reports/dashboard/", **en).content.decode()
    for words in (
        "Complaints dashboard",
        "Received today",
        "Overdue complaints by office (live)",
        "Valid complaints in the last 30 days: office × category",
    ):
        assert words in html, words
    for chinese in ("投诉看板", "今日受理", "任一时限已过", "此前月均", "数据时间"):
        assert chinese not in html, chinese

    res = client.get(PAGE, {"month": "2026-2"}, **en)
    assert "A month looks like YYYY-MM (e.g. 2026-02), not “2026-2”." in res.content.decode()
    res = client.get(API, {"month": "2026-02", "office": "X9"}, **en)
    assert res.status_code == 404 and res.json()["detail"].startswith("Not found")
    _login(client, org.director)
    assert (
        "The dashboard is for the quality department"
        in client.get("/reports/dashboard/", **en).content.decode()
    )


@pytest.mark.parametrize("who", ["quality", "director"])
def test_every_drill_down_lists_exactly_the_complaints_counted(client, org, data, who):
    """Each number on the report page that links to the complaint list opens a list of that many
    complaints (merged ones out, the period in the company's time zone, the user's own scope)."""
    import re

    _login(client, getattr(org, who))
    page = client.get(PAGE, {"month": "2026-02"}).content.decode()
    links = re.findall(r'<a href="(/complaints/\?[^"]+)">(\d+)</a>', page)
    assert len(links) >= (20 if who == "quality" else 10), len(links)
    for url, shown in links:
        assert listed(client, url) == int(shown), url


def test_dashboard_numbers_open_exactly_the_complaints_they_count(client, org):
    """Today's and this month's figures, every heat-map cell and the risers' counts link to the list; the
    heat-map's 30 days are whole local days, so a list from a date holds exactly the cell's complaints."""
    import datetime as dt
    import html
    import json
    import re

    from django.utils import timezone

    from kesu.complaints import services

    today = timezone.localdate()

    def at(days_ago: int, hour: int, minute: int) -> dt.datetime:
        day = today - dt.timedelta(days=days_ago)
        return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))

    def reg(received: dt.datetime, category: str = "facilities", office=None):
        office = office or org.a
        staff = org.reception if office is org.a else org.reception2
        return services.register(
            staff,
            office=office.office,
            channel="phone",
            content="电梯又停了，困人十多分钟。",
            complainant_name="王建国",
            received_at=received,
            at=min(received + dt.timedelta(minutes=5), timezone.now()),
            nature="valid",
            severity="general",
            category=category,
        )

    # Both offices have history before the risers' 90-day comparison (else no data to compare with).
    reg(at(150, 10, 0))
    reg(at(150, 10, 0), "security", org.b)
    reg(at(29, 0, 0))  # the first of the 30 days: in
    reg(at(30, 23, 59))  # the day before: out
    first = reg(at(0, 0, 0))
    merged = reg(at(0, 0, 0))
    services.merge(merged, org.supervisor, target=first, reason="同一部电梯")
    reg(at(1, 10, 0), "security", org.b)

    _login(client, org.quality)
    page = client.get("/reports/dashboard/").content.decode()
    data = json.loads(
        re.search(r'<script id="rp-data" type="application/json">(.+?)</script>', page).group(1)
    )
    heat = data["heatmap"]
    cells = {
        (heat["offices"][i]["code"], heat["categories"][j]["code"]): (n, url)
        for i, j, n, url in heat["cells"]
    }
    assert {k: n for k, (n, _u) in cells.items()} == {("Y01", "facilities"): 2, ("Y02", "security"): 1}
    links = [(url, n) for n, url in cells.values()]
    links += [
        (html.unescape(u), int(n)) for u, n in re.findall(r'<b><a href="([^"]+)">(\d+)</a></b>', page)[:2]
    ]
    risers_table = page[page.index("投诉上升最多的管理处") :]
    risers = re.findall(r'<th scope="row">([^<]+)</th><td><a href="([^"]+)">(\d+)</a></td>', risers_table)
    assert [(name, int(n)) for name, _u, n in risers] == [("翠湖花园", 2), ("锦绣华庭", 1)]
    links += [(html.unescape(u), int(n)) for _name, u, n in risers]
    assert len(links) == 6
    for url, n in links:
        assert listed(client, url) == n, url


def _chart_data(page: str) -> dict:
    import json
    import re

    return json.loads(
        re.search(r'<script id="rp-data" type="application/json">(.+?)</script>', page).group(1)
    )


def test_the_page_says_no_data_for_months_before_the_first_complaint(client, org, data):
    page = _login(client, org.quality).get(PAGE, {"month": "2025-12"}).content.decode()
    assert "<td>无数据</td>" in page  # November: the table's 上期 column and the KPIs' 上期 and 变化
    trend = _chart_data(page)["trend"]
    assert [m["total"] for m in trend] == [None] * 11 + [1]  # null points (a gap), not zeros
    assert _chart_data(page)["trend_since_label"] == "2025年12月"
    body = client.get(API, {"month": "2025-12"}).json()
    assert body["previous"]["has_data"] is False and body["previous"]["total"] is None
    assert (
        body["kpis"]["callback_rate"]["previous"] is None and body["kpis"]["callback_rate"]["change"] is None
    )


def test_an_enquiry_settled_at_the_counter_opens_alone_and_is_in_no_other_figure(client, org, data):
    import re

    settled_enquiry(org)
    _login(client, org.quality)
    page = client.get(PAGE, {"month": "2026-02"}).content.decode()
    enquiry = re.findall(r'<a href="(/complaints/\?[^"]*on_spot_enquiry=true[^"]*)">(\d+)</a>', page)
    assert [int(n) for _u, n in enquiry] == [1, 1]  # the nature table's row, annex 1's column
    assert all(listed(client, u) == 1 for u, _n in enquiry)
    # every other figure leaves it out, and its list shows exactly what it counts
    for url, shown in re.findall(r'<a href="(/complaints/\?[^"]+)">(\d+)</a>', page):
        assert listed(client, url) == int(shown), url


def test_the_dashboard_compares_an_office_only_with_the_days_it_has_data_for(client, org):
    """Y01's complaints began 74 days ago (45 days before the last 30): 3 in those 45 days, 3 in the last
    30 — a monthly average of 2.0 before, not 1.0 over 90 days of which half had no data (3×). Y02's began
    10 days ago: nothing to compare with (无数据), not a rise from zero."""
    import datetime as dt
    import re

    from django.utils import timezone

    from kesu.complaints import services

    today = timezone.localdate()

    def reg(days_ago: int, office) -> None:
        received = timezone.make_aware(
            dt.datetime.combine(today - dt.timedelta(days=days_ago), dt.time(9, 0))
        )
        services.register(
            org.reception if office is org.a else org.reception2,
            office=office.office,
            channel="phone",
            content="电梯又停了，困人十多分钟。",
            complainant_name="王建国",
            received_at=received,
            at=received + dt.timedelta(minutes=5),
            nature="valid",
            severity="general",
            category="facilities",
        )

    for days_ago in (74, 60, 40, 20, 10, 5):
        reg(days_ago, org.a)
    reg(10, org.b)
    reg(3, org.b)

    from kesu.reports.dashboard import compute_dashboard

    d = compute_dashboard(org.quality)
    assert [(o["code"], o["recent"], o["baseline"], o["baseline_days"], o["ratio"]) for o in d["risers"]] == [
        ("Y01", 3, 2.0, 45, 1.5)
    ]
    assert d["history"]["not_compared"] == [{"code": "Y02", "name": "锦绣华庭"}]
    first = today - dt.timedelta(days=74)
    assert d["history"]["since"] == first.isoformat()

    page = _login(client, org.quality).get("/reports/dashboard/").content.decode()
    assert f"历史数据自 {first.year}年{first.month}月{first.day}日起，不足 4 个月" in page
    assert "（按 45 天）" in page
    assert re.search(r"无法对比（无数据）的管理处：锦绣华庭", page)
