"""Errors are application/problem+json in the language asked for; rate limits answer 429 + Retry-After."""

from __future__ import annotations

import pytest
from api_support import Api, api_for, assert_problem, make_key, register_body
from django.test import override_settings

from kesu.complaints import services
from kesu.org.choices import DepartmentType

pytestmark = pytest.mark.django_db


def test_field_errors_default_to_chinese(org):
    problem = assert_problem(
        api_for(org.reception).post("/complaints/", register_body(org, office="Y99")), 400
    )
    assert problem["type"] == "urn:kesu:problem:validation_error"
    assert problem["title"] == "请求数据有误"
    assert problem["errors"]["office"] == "未知的管理处“Y99”。"


def test_field_errors_in_english_when_asked(org):
    api = api_for(org.reception, lang="en")
    problem = assert_problem(api.post("/complaints/", register_body(org, office="Y99", phone="12")), 400)
    assert problem["title"] == "Invalid request"
    assert problem["errors"]["office"] == "Unknown office “Y99”."
    assert problem["errors"]["phone"] == "“12” is not a valid phone number."
    assert problem["detail"].startswith("Check these fields")


def test_a_refused_transition_is_409_in_english_with_its_code(org, make_complaint):
    c = make_complaint()
    api = api_for(org.supervisor, lang="en")
    problem = assert_problem(
        api.post(
            f"/complaints/{c.number}/callback/",
            {"method": "phone", "satisfaction": "satisfied", "words": "ok"},
        ),
        409,
    )
    assert problem["code"] == "transition_not_allowed"
    assert problem["detail"] == "The complaint is “Received”: Callback is not possible now."


def test_a_wrong_role_is_403_problem(org, make_complaint):
    c = make_complaint()
    services.dispatch(c, org.supervisor, department=org.a.dept[DepartmentType.ENGINEERING])
    problem = assert_problem(
        api_for(org.handler, lang="en").post(
            f"/complaints/{c.number}/decline/", {"reason": "other", "explanation": "x"}
        ),
        403,
    )
    assert problem["code"] == "role_not_allowed" and "may not do this" in problem["detail"]


def test_malformed_json_is_400_and_a_form_body_is_415(org):
    api = api_for(org.reception)
    response = api.client.post(
        "/api/v1/complaints/", "{not json", content_type="application/json", headers=api.headers
    )
    assert_problem(response, 400, "parse_error")
    response = api.client.post(
        "/api/v1/complaints/", "a=b", content_type="application/x-www-form-urlencoded", headers=api.headers
    )
    assert_problem(response, 415, "unsupported_media_type")


def test_a_json_list_body_is_400_not_500(org, make_complaint):
    c = make_complaint()
    api = api_for(org.supervisor)
    assert_problem(api.post("/complaints/", ["x"]), 400)
    assert_problem(api.post(f"/complaints/{c.number}/note/", "text"), 400)


def test_null_characters_are_refused_everywhere(org, make_complaint):
    c = make_complaint()
    api = api_for(org.supervisor)
    assert (
        "text" in assert_problem(api.post(f"/complaints/{c.number}/note/", {"text": "a\x00b"}), 400)["errors"]
    )
    assert_problem(api.get("/complaints/a%00b/"), 404)
    assert_problem(api.get("/units/", {"q": "\x00"}), 400)


def test_unknown_paths_under_api_are_problem_404s(org):
    api = api_for(org.reception)
    assert_problem(api.get("/api/v1/nothing-here/"), 404, "not_found")
    assert_problem(api.get("/api/v1/complaints/a/b/c/"), 404, "not_found")
    assert_problem(api.get("/api/v1/webhooks/a%0Ab/"), 404, "not_found")  # a newline in the path


def test_a_missing_trailing_slash_is_a_404_that_says_so(org):
    problem = assert_problem(api_for(org.reception, lang="en").get("/api/v1/complaints"), 404, "not_found")
    assert problem["detail"] == "The address must end with “/”: /api/v1/complaints/"


def test_method_not_allowed_is_405_problem(org):
    response = api_for(org.reception).client.put(
        "/api/v1/complaints/", "{}", content_type="application/json", headers=api_for(org.reception).headers
    )
    assert_problem(response, 405, "method_not_allowed")


def test_any_accept_header_gets_json(org):
    response = api_for(org.reception).get("/complaints/", Accept="text/html")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/json")


@override_settings(KESU_API_RATE_PER_KEY="3/min", KESU_API_RATE_PER_IP="1000/min")
def test_the_rate_limit_per_key_is_429_with_retry_after(org):
    api, other = api_for(org.reception), api_for(org.supervisor)
    for _ in range(3):
        assert api.get("/complaints/").status_code == 200
    problem = assert_problem(response := api.get("/complaints/"), 429, "throttled")
    assert 1 <= int(response["Retry-After"]) <= 60 and problem["detail"]
    assert other.get("/complaints/").status_code == 200  # another key has its own budget


@override_settings(KESU_API_RATE_PER_KEY="1000/min", KESU_API_RATE_PER_IP="4/min")
def test_the_rate_limit_per_address_covers_every_key_and_no_key(org):
    keys = [Api(make_key(org.reception)) for _ in range(2)]
    assert keys[0].get("/complaints/").status_code == 200
    assert keys[1].get("/complaints/").status_code == 200
    assert_problem(Api().get("/complaints/"), 401)
    assert keys[0].get("/complaints/").status_code == 200
    response = keys[1].get("/complaints/")
    assert_problem(response, 429, "throttled")
    assert int(response["Retry-After"]) >= 1
    # Another address is not affected.
    response = keys[1].client.get("/api/v1/complaints/", headers=keys[1].headers, REMOTE_ADDR="10.0.0.9")
    assert response.status_code == 200
