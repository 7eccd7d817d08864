"""N+1 guards: the report page, its files, the JSON endpoint and the dashboard cost a number of SQL
queries that does not grow with the data (more complaints, more offices, more managers)."""

from __future__ import annotations

import datetime as dt

from conftest import local
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from report_support import build_data

from kesu.complaints import services
from kesu.org.choices import DepartmentType, Role
from kesu.org.models import Department, Office, User

PAGE = "/reports/monthly/"
API = "/api/v1/reports/monthly/"
DASHBOARD = "/reports/dashboard/"
FEB = {"month": "2026-02"}
# (who, url, parameters, the most queries it may take today). The report counts the homes on file
# (one query) and asks for the scope's first complaint (one query, and one more for the trend).
CASES = [
    ("quality", PAGE, FEB, 27),
    ("quality", PAGE, {"month": "2026-01", "to": "2026-02"}, 27),
    ("quality", PAGE, {**FEB, "office": "Y01"}, 28),
    ("quality", PAGE, {**FEB, "format": "json"}, 22),
    ("quality", PAGE, {**FEB, "format": "xlsx"}, 22),
    ("quality", PAGE, {**FEB, "format": "html"}, 24),
    ("quality", API, FEB, 22),
    ("quality", DASHBOARD, {}, 20),
    ("director", PAGE, FEB, 28),
    ("director", API, FEB, 22),
    ("area", PAGE, FEB, 28),
    ("area", API, FEB, 22),
]
NATURES = ["valid", "valid", "assist", "invalid", ""]
CATEGORIES = ["facilities", "security", "environment", "service", "fees"]


def grow(org, area: User, offices: int, per_office: int) -> None:
    """`offices` more offices, each with a director and an engineering department, all also covered by
    `area`; and `per_office` more complaints in each office, old and new, in January, in February and in
    the last days (every nature, several categories), a third of them resolved and called back by the
    office's director."""
    offices_and_directors = [(org.a.office, org.director), (org.b.office, org.director2)]
    for i in range(offices):
        office = Office.objects.create(
            company=org.company, code=f"Z{i:02d}", name=f"测试花园{i}", households=800 + i
        )
        Department.objects.create(office=office, type=DepartmentType.ENGINEERING, name="工程部")
        director = User.objects.create_user(
            username=f"director_z{i}", password="pw-12345678", role=Role.DIRECTOR
        )
        director.offices.set([office])
        area.offices.add(office)
        offices_and_directors.append((office, director))
    now = timezone.now()
    for office, director in offices_and_directors:
        dept = Department.objects.filter(office=office, type=DepartmentType.ENGINEERING).first()
        for j in range(per_office):
            nature = NATURES[j % len(NATURES)]
            for received in (local(2026, 1 + j % 2, 2 + j, 10, 0), now - dt.timedelta(days=j % 25, hours=1)):
                c = services.register(
                    org.quality,
                    office=office,
                    channel="phone",
                    content=f"{j + 1}号楼电梯经常停运，地下车库漏水。",
                    complainant_name="李四",
                    received_at=received,
                    at=received + dt.timedelta(minutes=1),
                    nature=nature,
                    category=CATEGORIES[j % len(CATEGORIES)] if nature else None,
                    severity="general" if nature else "",
                )
                if nature and j % 3 == 0:
                    at = received + dt.timedelta(minutes=10)
                    c = services.dispatch(c, org.quality, department=dept, at=at)
                    c = services.resolve(c, org.quality, resolution="已处理。", at=at + dt.timedelta(hours=2))
                    services.call_back(
                        c,
                        director,
                        method="phone",
                        satisfaction="satisfied",
                        words="满意",
                        at=at + dt.timedelta(hours=3),
                    )


def _get(client, url: str, params: dict) -> None:
    res = client.get(url, params)
    assert res.status_code == 200, (url, params, res.content[:300])


def _count(client, url: str, params: dict) -> int:
    with CaptureQueriesContext(connection) as ctx:
        _get(client, url, params)
    return len(ctx.captured_queries)


def test_report_and_dashboard_queries_do_not_grow_with_the_data(org, client, django_assert_max_num_queries):
    build_data(org)
    area = User.objects.create_user(username="area", password="pw-12345678", role=Role.DIRECTOR)
    area.offices.set([org.a.office, org.b.office])  # two offices: the report of both ("offices")
    users = {"quality": org.quality, "director": org.director, "area": area}
    small = {}
    for who, url, params, _most in CASES:
        client.force_login(users[who])
        _get(client, url, params)  # warm up: the session, caches
        small[(who, url, str(params))] = _count(client, url, params)

    grow(org, area, offices=4, per_office=10)
    large = {}
    for who, url, params, most in CASES:
        client.force_login(users[who])
        _get(client, url, params)
        with django_assert_max_num_queries(most) as ctx:
            _get(client, url, params)
        large[(who, url, str(params))] = len(ctx.captured_queries)
    assert large == small
