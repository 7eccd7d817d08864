"""GET /api/v1/reports/monthly/ with an integration key: the report, narrowed by the key's offices."""

from __future__ import annotations

import pytest
from api_support import Api, make_key
from report_support import build_data

from kesu.reports.monthly import compute
from kesu.reports.period import Period

PATH = "/reports/monthly/"


@pytest.fixture
def data(org):
    return build_data(org)


def test_a_company_key_gets_the_company_report_the_page_shows(org, data):
    res = Api(make_key(org.quality, scope="read")).get(PATH, {"month": "2026-02"})
    assert res.status_code == 200
    body = res.json()
    assert body["scope"]["type"] == "company"
    expected = compute(org.quality, Period.parse("2026-02"), as_of=None)
    for key in ("total", "by_nature", "major", "valid_by_category", "annex1", "annex2", "summary"):
        assert body[key] == expected[key], key
    assert body["total"] == 11


def test_a_key_limited_to_one_office_reports_that_office_only(org, data):
    api = Api(make_key(org.quality, offices=["Y01"], scope="read"))
    body = api.get(PATH, {"month": "2026-02"}).json()
    assert body["scope"]["type"] == "office" and body["scope"]["office"]["code"] == "Y01"
    assert body["total"] == 7
    assert [r["office"]["code"] for r in body["annex1"]["rows"]] == ["Y01"]
    res = api.get(PATH, {"month": "2026-02", "office": "Y02"})
    assert res.status_code == 404
    assert res["Content-Type"] == "application/problem+json"
    assert res.json()["code"] == "not_found"


def test_a_key_limited_to_two_offices_reports_both_and_nothing_else(org, data):
    body = (
        Api(make_key(org.quality, offices=["Y01", "Y02"], scope="read"))
        .get(PATH, {"month": "2026-02"})
        .json()
    )
    assert body["scope"]["type"] == "offices" and body["scope"]["offices"] == ["Y01", "Y02"]
    assert [r["office"]["code"] for r in body["annex1"]["rows"]] == ["Y01", "Y02"]
    assert body["total"] == 11  # Y03 (no complaints) is not shown


def test_a_directors_key_cannot_reach_beyond_the_directors_office(org, data):
    api = Api(make_key(org.director2, scope="read"))
    body = api.get(PATH, {"month": "2026-02"}).json()
    assert body["scope"]["office"]["code"] == "Y02" and body["total"] == 4
    assert api.get(PATH, {"month": "2026-02", "office": "Y01"}).status_code == 404


@pytest.mark.parametrize(
    ("params", "field"),
    [({}, "month"), ({"month": "2026-2"}, "month"), ({"month": "2026-03", "to": "2026-01"}, "to")],
)
def test_bad_periods_are_field_errors(org, data, params, field):
    res = Api(make_key(org.quality)).get(PATH, params)
    assert res.status_code == 400 and res["Content-Type"] == "application/problem+json"
    assert field in res.json()["errors"]


def test_no_key_or_a_revoked_key_is_refused(org, data):
    from kesu.api.models import ApiKey

    assert Api().get(PATH, {"month": "2026-02"}).status_code == 401
    raw = make_key(org.quality)
    ApiKey.objects.update(revoked_at="2026-01-01T00:00:00Z")
    res = Api(raw).get(PATH, {"month": "2026-02"})
    assert res.status_code == 401 and res.json()["code"] == "authentication_failed"


def test_department_staff_get_no_report(org, data):
    res = Api(make_key(org.handler)).get(PATH, {"month": "2026-02"})
    assert res.status_code == 403 and res.json()["code"] == "permission_denied"


def test_the_schema_documents_the_report(client, db):
    schema = client.get("/api/schema/", {"format": "json"}).json()
    op = schema["paths"]["/api/v1/reports/monthly/"]["get"]
    params = {p["name"]: p for p in op["parameters"]}
    assert params["month"]["required"] is True and {"to", "office"} <= set(params)
    assert "kpis" in op["responses"]["200"]["content"]["application/json"]["schema"]["required"]
    assert op["security"]  # a key or a session
