"""Helpers shared by the web workspace tests (tests/test_web_*.py)."""

from __future__ import annotations

import datetime as dt

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kesu.complaints import services
from kesu.complaints.models import Complaint
from kesu.org.choices import DepartmentType

HTMX = {"HTTP_HX_REQUEST": "true"}


def client_for(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def url(name: str, *args) -> str:
    return reverse(f"web:{name}", args=args)


def act(
    client: Client, c: Complaint, action: str, data: dict | None = None, *, htmx: bool = True, version=None
):
    """Send one action form of the complaint page as the browser would (htmx by default)."""
    payload = {"version": c.version if version is None else version, **(data or {})}
    return client.post(url("act", c.number, action), payload, **(HTMX if htmx else {}))


def fresh(c: Complaint) -> Complaint:
    return Complaint.objects.get(pk=c.pk)


def local_input(value: dt.datetime) -> str:
    """A datetime as a datetime-local input sends it."""
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M")


def dispatched(org, make_complaint, **kwargs) -> Complaint:
    """A complaint registered now, judged general/valid/facilities, dispatched to engineering A."""
    c = make_complaint(nature="valid", severity="general", category="facilities", **kwargs)
    return services.dispatch(c, org.supervisor, department=org.a.dept[DepartmentType.ENGINEERING])


def resolved(org, make_complaint, **kwargs) -> Complaint:
    c = dispatched(org, make_complaint, **kwargs)
    c = services.accept(c, org.handler)
    return services.resolve(c, org.handler, resolution="已更换2号电梯门机板，试运行正常。")


def seed_default_rules() -> None:
    """Transactional tests empty the tables after each test, data migrations included: put the
    default categories and time limits back (the migration's own function)."""
    import importlib

    from django.apps import apps

    importlib.import_module("kesu.complaints.migrations.0003_default_categories_and_policies").forwards(
        apps, None
    )


def chromium_browser(shots, executable: str, args: list[str]):
    """Debian's chromium under Playwright for a module's tests, its screenshot folder emptied first
    (a generator for a module-scoped fixture)."""
    import shutil

    import pytest

    sync_api = pytest.importorskip("playwright.sync_api")
    if shots.exists():
        shutil.rmtree(shots)
    shots.mkdir(parents=True)
    print(f"\nscreenshots: {shots}")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, args=args)
        yield b
        b.close()
