"""Report pages, downloads and the JSON endpoint: scoped like everything else."""

from __future__ import annotations

import pytest
from report_support import build_data

API = "/api/v1/reports/monthly/"
PAGE = "/reports/monthly/"


@pytest.fixture
def data(org):
    return build_data(org)


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
