"""Personas shared by every test: office A (Y01) with its staff, office B (Y02), company roles."""

from __future__ import annotations

import datetime as dt
import itertools
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from kesu.org.choices import DepartmentType, Role

TZ = ZoneInfo("Asia/Shanghai")
_seq = itertools.count(1)


def local(*args: int) -> dt.datetime:
    """An aware datetime in the company's zone: local(2026, 3, 9, 10, 0)."""
    return dt.datetime(*args, tzinfo=TZ)


@pytest.fixture(autouse=True)
def _fresh_caches():
    """Policies and calendar overrides are cached per process; a rolled-back test leaves no signal.
    Rate-limit counts live in their own store (kesu.org.ratelimit), which outlives a test too."""
    from django.core.cache import cache

    from kesu.org import ratelimit

    cache.clear()
    ratelimit.reset()
    yield
    cache.clear()
    ratelimit.reset()


@pytest.fixture
def org(db):
    from kesu.org.models import Building, Company, Department, Office, Resident, Unit, User

    company = Company.objects.create(name="示范物业")

    def office(code: str, name: str) -> SimpleNamespace:
        o = Office.objects.create(company=company, code=code, name=name, households=1000)
        depts = {
            t: Department.objects.create(office=o, type=t, name=str(t.label))
            for t in (DepartmentType.CS_CENTER, DepartmentType.ENGINEERING, DepartmentType.SECURITY)
        }
        b = Building.objects.create(office=o, name="3栋")
        unit = Unit.objects.create(building=b, number="1201")
        other_unit = Unit.objects.create(building=b, number="1202")
        resident = Resident.objects.create(unit=unit, name="王建国", phone=f"1380013{next(_seq):04d}")
        return SimpleNamespace(office=o, dept=depts, unit=unit, other_unit=other_unit, resident=resident)

    a = office("Y01", "翠湖花园")
    b = office("Y02", "锦绣华庭")

    def user(username: str, role: str, offices=(), department=None, **extra) -> User:
        u = User.objects.create_user(
            username=username, password="pw-12345678", role=role, department=department, **extra
        )
        u.offices.set(offices)
        return u

    eng_a, sec_a = a.dept[DepartmentType.ENGINEERING], a.dept[DepartmentType.SECURITY]
    people = SimpleNamespace(
        reception=user("reception", Role.RECEPTIONIST, [a.office], on_night_duty=True),
        supervisor=user("supervisor", Role.SUPERVISOR, [a.office]),
        cs_manager=user("cs_manager", Role.CS_MANAGER, [a.office]),
        director=user("director", Role.DIRECTOR, [a.office]),
        handler=user("handler", Role.HANDLER, department=eng_a),
        eng_manager=user("eng_manager", Role.DEPT_MANAGER, department=eng_a),
        guard=user("guard", Role.HANDLER, department=sec_a),
        director2=user("director2", Role.DIRECTOR, [b.office]),
        reception2=user("reception2", Role.RECEPTIONIST, [b.office]),
        handler2=user("handler2", Role.HANDLER, department=b.dept[DepartmentType.ENGINEERING]),
        quality=user("quality", Role.QUALITY),
        executive=user("executive", Role.EXECUTIVE),
        resident=user("resident", Role.RESIDENT, phone=a.resident.phone),
    )
    return SimpleNamespace(company=company, a=a, b=b, **vars(people))


@pytest.fixture
def make_complaint(org):
    """Register a complaint in office A through the lifecycle (defaults: a phone call now)."""
    from kesu.complaints import services

    def make(by=None, **kwargs):
        params = dict(
            office=org.a.office,
            channel="phone",
            content="3栋2号电梯经常停运，昨晚困了一位老人十多分钟。",
            complainant_name="王建国",
            phone=org.a.resident.phone,
            unit=org.a.unit,
        )
        params.update(kwargs)
        return services.register(by or org.reception, **params)

    return make
