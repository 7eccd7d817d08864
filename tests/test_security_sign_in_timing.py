"""The portal's sign-in does the same work for a registered and an unknown phone (issue 13, finding 11).

The page answered registered numbers slower (67 vs 32 ms median): their request also wrote the SMS
outbox row. Now the request does the same database work for both — the same statements, in the same
order — and hands the same one job to the background, which writes and sends the SMS only for a
registered number. Asserted on the work done, not on timings."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from portal_support import codes_sent, portal_home_fixture  # noqa: F401

from kesu.notify.models import Outbox
from kesu.portal.models import LoginCode

pytestmark = pytest.mark.usefixtures("db", "portal_home")
UNKNOWN = "13900000001"


def shape(sql: str) -> str:
    """A statement without its values: quoted strings, numbers and savepoint names replaced."""
    sql = re.sub(r'"s\d+_x\d+"', '"savepoint"', sql)
    sql = re.sub(r"'(?:[^']|'')*'", "?", sql)
    sql = re.sub(r"\b\d+(?:\.\d+)?\b", "?", sql)
    sql = re.sub(r"\b(?:true|false)\b", "?", sql)  # PostgreSQL inlines boolean parameters
    return re.sub(r"\s+", " ", sql).strip()


def ask(settings, capture, phone: str):
    """POST the sign-in form; the statements the request ran and the after-commit jobs it left."""
    settings.KESU_PORTAL_SEND_IN_BACKGROUND = True
    client = Client()
    with CaptureQueriesContext(connection) as queries, capture(execute=False) as jobs:
        response = client.post(reverse("portal:login"), {"phone": phone})
    assert response.status_code == 302
    return [shape(q["sql"]) for q in queries.captured_queries], jobs


def test_a_registered_and_an_unknown_phone_cost_the_request_the_same_statements(
    org, settings, django_capture_on_commit_callbacks
):
    known_sql, known_jobs = ask(settings, django_capture_on_commit_callbacks, org.a.resident.phone)
    unknown_sql, unknown_jobs = ask(settings, django_capture_on_commit_callbacks, UNKNOWN)
    assert known_sql == unknown_sql
    assert not any("notify_outbox" in sql for sql in known_sql)  # the SMS row is not the request's work
    assert sum("portal_logincode" in sql and sql.startswith("INSERT") for sql in known_sql) == 1
    assert len(known_jobs) == len(unknown_jobs) == 1  # one background job each


def test_the_background_job_writes_and_sends_the_sms_for_a_registered_phone_only(
    org, settings, portal_home, django_capture_on_commit_callbacks
):
    phone = org.a.resident.phone
    for number in (phone, UNKNOWN):
        _sql, jobs = ask(settings, django_capture_on_commit_callbacks, number)
        settings.KESU_PORTAL_SEND_IN_BACKGROUND = False  # run the job here, not in a thread
        for job in jobs:
            job()
    assert len(codes_sent(portal_home, phone)) == 1 and codes_sent(portal_home, UNKNOWN) == []
    sms = Outbox.objects.get(kind="otp")
    assert (sms.address, sms.state) == (phone, "sent")
    assert sms.delivery_key.startswith(f"otp:{LoginCode.objects.get(phone=phone).pk}:")
    assert LoginCode.objects.filter(phone=UNKNOWN, known=False).count() == 1
