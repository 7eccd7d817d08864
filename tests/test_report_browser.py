"""The report page and the dashboard in a real browser (Playwright driving Debian's chromium): the
ECharts charts draw, under the page's Content-Security-Policy, the report's own figures; a number
opens the list of exactly those complaints. Screenshots go to test-artifacts/screenshots/reports/."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from report_support import build_data
from test_web_browser import ARGS, CHROMIUM, Desk

SHOTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots" / "reports"

pytestmark = [
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
]

# How much of a chart's canvas is drawn (not background): an empty or failed chart is blank.
INK = """(id) => {
  const canvas = document.querySelector('#' + id + ' canvas');
  if (!canvas || !canvas.width) return 0;
  const px = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let ink = 0;
  for (let i = 0; i < px.length; i += 4) if (px[i + 3] > 0 && (px[i] < 235 || px[i + 1] < 235 || px[i + 2] < 235)) ink++;
  return ink / (canvas.width * canvas.height);
}"""
# What a chart shows: its first series' values, as ECharts holds them.
SERIES = """(id) => echarts.getInstanceByDom(document.getElementById(id)).getOption().series
  .map(s => s.data.map(d => (d !== null && typeof d === 'object' && !Array.isArray(d)) ? d.value : d))"""


@pytest.fixture
def browser():
    # Function-scoped, started after the database fixture: with Playwright's event loop already
    # running, Django's test connection is another one and the serialized rollback would not
    # restore the migrations' categories for the next test.
    sync_api = pytest.importorskip("playwright.sync_api")
    SHOTS.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots: {SHOTS}")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_report_page_draws_the_reports_figures_and_drills_down(browser, live_server, org):
    from playwright.sync_api import expect

    build_data(org)
    desk = Desk(browser, live_server.url, "quality")
    page = desk.page
    refused: list[str] = []  # every asset, the tab's icon included, comes from this server
    page.on("response", lambda r: r.status >= 400 and refused.append(f"{r.status} {r.url}"))
    desk.go("/reports/monthly/?month=2026-02")
    expect(page.get_by_role("heading", name="示范物业2026年2月客户投诉工作月报")).to_be_visible()
    for chart in ("chart-nature", "chart-trend", "chart-category", "chart-office"):
        page.locator(f"#{chart} canvas").wait_for()
        page.wait_for_function(f"({INK})('{chart}') > 0.01")  # drawn (animations finish)
    page.wait_for_timeout(1200)  # the entry animation, before the screenshot
    assert not refused, refused
    page.screenshot(path=str(SHOTS / "monthly-2026-02.png"), full_page=True, caret="initial")

    # The charts show the report's figures (hand-computed in report_support: 6 valid, 2 assist,
    # 2 invalid, 1 not judged; facilities 3 of the valid; Y01 4, Y02 2).
    assert page.evaluate(SERIES, "chart-nature") == [[6, 2, 2, 1]]
    category = page.evaluate(SERIES, "chart-category")[0]
    assert sorted(category, reverse=True)[:3] == [3, 2, 1] and sum(category) == 6
    assert sorted(page.evaluate(SERIES, "chart-office")[0], reverse=True) == [4, 2, 0]
    trend = page.evaluate(SERIES, "chart-trend")
    assert len(trend[0]) == 12 and trend[0][-1] == 11 and trend[1][-1] == 6  # total, valid: Feb last
    # before the data set's first complaint (December 2025) the line has no points: null, not 0
    assert trend[0][:9] == [None] * 9 and trend[0][9:] == [1, 2, 11]

    # On a phone (a director reading last month's report): nothing wider than the screen but the
    # tables themselves, which scroll sideways in their own box.
    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_timeout(300)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(SHOTS / "monthly-2026-02-phone.png"), full_page=False, caret="initial")
    page.set_viewport_size({"width": 1366, "height": 768})

    # A number opens the list of exactly those complaints.
    page.get_by_role("link", name="3", exact=True).first.click()
    page.wait_for_url(re.compile(r"/complaints/\?.*nature=valid.*category=facilities"))
    expect(page.get_by_role("heading", name="共 3 件")).to_be_visible()
    assert page.locator("#results tbody tr").count() == 3
    desk.close()  # no script error, nothing refused by the Content-Security-Policy


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_dashboard_heat_map_draws_office_by_category(browser, live_server, org, make_complaint):
    from playwright.sync_api import expect

    from kesu.complaints import services

    # Valid complaints of the last 30 days: two on facilities in Y01, one on security in Y02.
    for office, staff, category in (
        (org.a, [org.reception, org.supervisor], "facilities"),
        (org.a, [org.reception, org.supervisor], "facilities"),
        (org.b, [org.reception2, org.director2], "security"),
    ):
        c = make_complaint(staff[0], office=office.office, phone=office.resident.phone, unit=office.unit)
        services.assess(c, staff[1], nature="valid", severity="general", category=category)
    desk = Desk(browser, live_server.url, "quality")
    page = desk.page
    desk.go("/reports/dashboard/")
    page.locator("#chart-heat canvas").wait_for()
    page.wait_for_function(f"({INK})('chart-heat') > 0.01")
    page.wait_for_timeout(1200)
    page.screenshot(path=str(SHOTS / "dashboard.png"), full_page=True, caret="initial")
    cells = page.evaluate(
        "() => echarts.getInstanceByDom(document.getElementById('chart-heat')).getOption().series[0].data"
    )
    heat = page.evaluate("() => JSON.parse(document.getElementById('rp-data').textContent).heatmap")
    shown = {
        (heat["offices"][i]["code"], heat["categories"][j]["code"]): n
        for i, j, n in (c["value"] if isinstance(c, dict) else c for c in cells)
    }
    assert shown == {("Y01", "facilities"): 2, ("Y02", "security"): 1}

    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_timeout(300)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # fits a phone
    page.set_viewport_size({"width": 1366, "height": 768})

    # A cell opens the list of its complaints.
    i = next(k for k, o in enumerate(heat["offices"]) if o["code"] == "Y01")
    j = next(k for k, c in enumerate(heat["categories"]) if c["code"] == "facilities")
    x, y = page.evaluate(
        "([i, j]) => echarts.getInstanceByDom(document.getElementById('chart-heat'))"
        ".convertToPixel({seriesIndex: 0}, [i, j])",
        [i, j],
    )
    page.locator("#chart-heat").scroll_into_view_if_needed()
    box = page.locator("#chart-heat").bounding_box()  # in the viewport, as the mouse needs
    page.mouse.click(box["x"] + x, box["y"] + y)
    page.wait_for_url(re.compile(r"/complaints/\?office=Y01&nature=valid&category=facilities"))
    expect(page.get_by_role("heading", name="共 2 件")).to_be_visible()
    desk.close()
