"""Look-ups: offices, departments, units (?q=), residents (?q=), categories, choices — scoped like the rest."""

from __future__ import annotations

import pytest
from api_support import api_for

from kesu.org.models import Unit

pytestmark = pytest.mark.django_db


def _rows(response):
    assert response.status_code == 200, response.content
    body = response.json()
    return body["results"] if isinstance(body, dict) and "results" in body else body


def test_offices_are_the_ones_the_caller_works_in(org):
    assert [o["code"] for o in _rows(api_for(org.reception).get("/offices/"))] == ["Y01"]
    assert [o["code"] for o in _rows(api_for(org.director2).get("/offices/"))] == ["Y02"]
    assert [o["code"] for o in _rows(api_for(org.quality).get("/offices/"))] == ["Y01", "Y02"]
    assert [o["code"] for o in _rows(api_for(org.handler).get("/offices/"))] == ["Y01"]


def test_departments_of_the_callers_offices_with_ids_for_dispatch(org):
    rows = _rows(api_for(org.supervisor).get("/departments/"))
    assert {r["office"] for r in rows} == {"Y01"} and {"id", "type", "name"} <= set(rows[0])
    rows = _rows(api_for(org.quality).get("/departments/", {"office": "Y02", "type": "engineering"}))
    assert [(r["office"], r["type"]) for r in rows] == [("Y02", "engineering")]


def test_units_by_code_search_in_the_callers_offices(org):
    rows = _rows(api_for(org.reception).get("/units/", {"q": "1201"}))
    assert [r["code"] for r in rows] == ["Y01-3栋-1201"]
    assert rows[0] == {"code": "Y01-3栋-1201", "office": "Y01", "building": "3栋", "number": "1201"}
    assert _rows(api_for(org.reception2).get("/units/", {"q": "Y01"})) == []


def test_units_page_with_a_cursor(org):
    building = org.a.unit.building
    for i in range(120):
        Unit.objects.create(building=building, number=f"{2000 + i}")
    api = api_for(org.reception)
    first = api.get("/units/").json()
    assert len(first["results"]) == 100 and first["next"]
    second = api.get(first["next"]).json()
    codes = [u["code"] for u in first["results"] + second["results"]]
    assert len(codes) == len(set(codes)) == 122


def test_residents_by_name_phone_or_unit_with_masked_phones(org):
    api = api_for(org.reception)
    phone = org.a.resident.phone
    for q in ("王建国", phone, phone[-4:], "3栋-1201"):
        rows = _rows(api.get("/residents/", {"q": q}))
        assert [r["id"] for r in rows] == [org.a.resident.pk], q
    row = rows[0]
    assert row["unit"] == "Y01-3栋-1201" and row["phone"] != phone and row["phone"].endswith(phone[-4:])
    # Office B's resident of the same name is not in reception's offices.
    assert {r["unit"] for r in _rows(api_for(org.quality).get("/residents/", {"q": "王建国"}))} == {
        "Y01-3栋-1201",
        "Y02-3栋-1201",
    }


def test_categories_are_the_eleven_default_codes(org):
    codes = [c["code"] for c in _rows(api_for(org.reception).get("/categories/"))]
    assert set(codes) == {
        "facilities",
        "security",
        "fire",
        "traffic",
        "environment",
        "construction",
        "fees",
        "clubhouse",
        "service",
        "home_service",
        "internal",
    }


def test_choices_give_labels_for_codes_in_the_language_asked_for(org):
    zh = api_for(org.reception).get("/choices/").json()
    en = api_for(org.reception, lang="en").get("/choices/").json()
    assert {"code": "received", "label": "已受理"} in zh["status"]
    assert {"code": "received", "label": "Received"} in en["status"]
    assert {"code": "referral", "label": "Referral (e.g. 12345 hotline)"} in en["channel"]
    assert [c["code"] for c in zh["nature"]] == ["valid", "assist", "invalid"]


def test_lookups_need_authentication(org):
    from api_support import Api

    for path in ("/offices/", "/departments/", "/units/", "/residents/", "/categories/", "/choices/"):
        assert Api().get(path).status_code == 401, path
