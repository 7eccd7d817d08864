"""Bad input never 500s (issue 13, finding 12): far-away months, deeply nested JSON and bodies over
the size limit are answered with a problem+json in the API and a clear message on the pages."""

from __future__ import annotations

import json

import pytest
from api_support import api_for, assert_problem, register_body
from django.test import Client

pytestmark = pytest.mark.django_db

REPORT_API = "/api/v1/reports/monthly/"
REPORT_PAGE = "/reports/monthly/"


@pytest.mark.parametrize(
    "params, field",
    [
        ({"month": "9999-12"}, "month"),
        ({"month": "9999-01"}, "month"),
        ({"month": "2026-01", "to": "9999-12"}, "to"),
        ({"month": "0000-01"}, "month"),
    ],
)
def test_a_month_at_the_calendars_end_is_a_field_error_in_the_api(org, params, field):
    client = Client()
    client.force_login(org.quality)
    response = client.get(REPORT_API, params)
    body = assert_problem(response, 400, "validation_error")
    assert field in body["errors"]


@pytest.mark.parametrize("month", ["9999-12", "9999-01"])
def test_a_month_at_the_calendars_end_is_a_message_on_the_report_page(org, month):
    client = Client()
    client.force_login(org.quality)
    response = client.get(REPORT_PAGE, {"month": month})
    assert response.status_code == 200
    assert "月份" in response.content.decode()


def _nested(depth: int) -> str:
    return '{"content": ' + "[" * depth + "]" * depth + "}"


@pytest.mark.parametrize("depth", [200, 5_000, 100_000])
def test_deeply_nested_json_is_a_parse_error_on_every_post(org, make_complaint, depth):
    c = make_complaint()
    api = api_for(org.supervisor)
    for path in ("/api/v1/complaints/", f"/api/v1/complaints/{c.number}/note/"):
        response = api.client.post(path, _nested(depth), content_type="application/json", headers=api.headers)
        assert_problem(response, 400, "parse_error")


def test_json_nested_as_deep_as_a_real_body_is_still_accepted(org):
    api = api_for(org.reception)
    body = register_body(org)
    body["extra"] = {"a": {"b": {"c": [1, 2, [3]]}}}
    response = api.post("/complaints/", body)
    assert response.status_code == 201, response.content[:300]


def test_a_body_over_the_size_limit_is_a_problem_413(org, settings):
    api = api_for(org.reception)
    body = json.dumps(register_body(org, content="长" * 10)).encode()
    big = body[:-1] + b', "padding": "' + b"x" * (12 * 1024 * 1024) + b'"}'
    assert len(big) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    response = api.client.post(
        "/api/v1/complaints/", big, content_type="application/json", headers=api.headers
    )
    problem = assert_problem(response, 413, "request_too_large")
    assert "MB" in problem["detail"] or "字节" in problem["detail"]


def test_a_body_over_the_size_limit_with_an_idempotency_key_is_a_problem_413_too(org):
    api = api_for(org.reception)
    big = b'{"x": "' + b"x" * (12 * 1024 * 1024) + b'"}'
    headers = {**api.headers, "Idempotency-Key": "big-1"}
    response = api.client.post("/api/v1/complaints/", big, content_type="application/json", headers=headers)
    assert_problem(response, 413, "request_too_large")


def test_the_new_problems_speak_english_when_asked(org):
    api = api_for(org.reception, lang="en")
    big = b'{"x": "' + b"x" * (12 * 1024 * 1024) + b'"}'
    response = api.client.post(
        "/api/v1/complaints/", big, content_type="application/json", headers=api.headers
    )
    assert assert_problem(response, 413)["title"] == "Request body too large"
    response = api.client.post(
        "/api/v1/complaints/", _nested(100), content_type="application/json", headers=api.headers
    )
    assert "nested too deeply" in assert_problem(response, 400, "parse_error")["detail"]
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(org.quality)
    body = assert_problem(client.get(REPORT_API, {"month": "9999-12"}), 400)
    assert body["errors"]["month"] == "A month lies between 2000-01 and 2999-12, not “9999-12”."
