"""Keys: made once and hashed, acting as their user, narrowed by offices and scope; sessions work too."""

from __future__ import annotations

import hashlib
import io

import pytest
from api_support import Api, api_for, assert_problem, make_key, register_body
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils.crypto import get_random_string

from kesu.api.models import ApiKey

pytestmark = pytest.mark.django_db


def test_a_key_is_stored_only_as_its_hash(org):
    raw = make_key(org.reception)
    key = ApiKey.objects.get()
    assert raw.startswith("kesu_") and len(raw) > 40
    assert key.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in {key.prefix, key.key_hash, key.name}
    assert raw.startswith(key.prefix)


def test_no_key_is_401_with_a_bearer_challenge(org):
    response = Api().get("/complaints/")
    assert_problem(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_an_unknown_key_is_401(org):
    assert_problem(Api("kesu_not-a-real-key").get("/complaints/"), 401, "authentication_failed")


def test_a_revoked_key_is_401(org):
    raw = make_key(org.reception)
    call_command("apikey", "revoke", ApiKey.objects.get().prefix, stdout=io.StringIO())
    assert_problem(Api(raw).get("/complaints/"), 401, "authentication_failed")


def test_a_key_can_be_revoked_by_the_key_itself_or_its_id(org):
    raw, other = make_key(org.reception), make_key(org.supervisor)
    call_command("apikey", "revoke", raw, stdout=io.StringIO())
    call_command("apikey", "revoke", str(ApiKey.objects.get(user=org.supervisor).pk), stdout=io.StringIO())
    assert_problem(Api(raw).get("/complaints/"), 401)
    assert_problem(Api(other).get("/complaints/"), 401)


def test_a_key_of_a_deactivated_user_is_401(org):
    api = api_for(org.reception)
    org.reception.is_active = False
    org.reception.save()
    assert_problem(api.get("/complaints/"), 401)


def test_a_key_records_when_it_was_last_used(org):
    api = api_for(org.reception)
    assert ApiKey.objects.get().last_used_at is None
    assert api.get("/complaints/").status_code == 200
    assert ApiKey.objects.get().last_used_at is not None


def test_a_read_key_reads_but_cannot_post(org, make_complaint):
    c = make_complaint()
    api = api_for(org.supervisor, scope="read")
    assert api.get(f"/complaints/{c.number}/").status_code == 200
    assert_problem(api.post("/complaints/", register_body(org)), 403, "permission_denied")
    assert_problem(api.post(f"/complaints/{c.number}/note/", {"text": "跟进"}), 403)
    assert api.get(f"/complaints/{c.number}/").json()["allowed_actions"] == []


def test_a_key_limited_to_office_a_gets_404_for_office_b(org, make_complaint):
    b = make_complaint(by=org.reception2, office=org.b.office, unit=org.b.unit, phone=org.b.resident.phone)
    a = make_complaint()
    # quality sees every office; the key narrows it to Y01.
    api = api_for(org.quality, offices=["Y01"])
    assert api.get(f"/complaints/{a.number}/").status_code == 200
    assert_problem(api.get(f"/complaints/{b.number}/"), 404, "not_found")
    assert_problem(api.get(f"/complaints/{b.number}/events/"), 404)
    assert_problem(api.post(f"/complaints/{b.number}/note/", {"text": "x"}), 404)
    numbers = [c["number"] for c in api.get("/complaints/").json()["results"]]
    assert numbers == [a.number]
    assert [o["code"] for o in api.get("/offices/").json()] == ["Y01"]


def test_a_key_limited_to_office_a_cannot_register_in_office_b(org):
    api = api_for(org.quality, offices=["Y01"])
    body = register_body(org, office="Y02", unit=org.b.unit.code)
    problem = assert_problem(api.post("/complaints/", body), 400, "validation_error")
    assert "office" in problem["errors"]


def test_a_key_limited_to_office_a_cannot_link_to_office_b(org, make_complaint):
    a = make_complaint()
    b = make_complaint(by=org.reception2, office=org.b.office, unit=org.b.unit, phone=org.b.resident.phone)
    api = api_for(org.quality, offices=["Y01"])
    problem = assert_problem(api.post(f"/complaints/{a.number}/link/", {"target": b.number}), 400)
    assert "target" in problem["errors"]


def test_session_authentication_works_for_the_web_ui_with_csrf(org, make_complaint):
    c = make_complaint()
    client = Client(enforce_csrf_checks=True)
    client.force_login(org.supervisor)
    assert client.get(f"/api/v1/complaints/{c.number}/").status_code == 200
    # A POST without the CSRF token is refused; with it, it goes through.
    response = client.post(
        f"/api/v1/complaints/{c.number}/note/", {"text": "已联系"}, content_type="application/json"
    )
    assert_problem(response, 403)
    secret = get_random_string(32)
    client.cookies["csrftoken"] = secret
    response = client.post(
        f"/api/v1/complaints/{c.number}/note/",
        {"text": "已联系"},
        content_type="application/json",
        headers={"X-CSRFToken": secret},
    )
    assert response.status_code == 200, response.content


# --- the command ---


def test_apikey_create_prints_the_key_once_and_it_works(org, capsys):
    out = io.StringIO()
    call_command("apikey", "create", "--user", "reception", "--office", "Y01", "--scope", "read", stdout=out)
    raw = out.getvalue().strip()
    key = ApiKey.objects.get()
    assert key.scope == "read" and [o.code for o in key.offices.all()] == ["Y01"]
    assert Api(raw).get("/complaints/").status_code == 200


def test_apikey_create_takes_several_offices_either_way(org):
    call_command("apikey", "create", "--user", "quality", "--office", "Y01", "Y02", stdout=io.StringIO())
    call_command(
        "apikey", "create", "--user", "quality", "--office", "Y01", "--office", "Y02", stdout=io.StringIO()
    )
    assert [sorted(o.code for o in k.offices.all()) for k in ApiKey.objects.all()] == [["Y01", "Y02"]] * 2


def test_apikey_create_refuses_an_office_the_user_does_not_work_in(org):
    with pytest.raises(CommandError, match="Y02"):
        call_command("apikey", "create", "--user", "reception", "--office", "Y02", stdout=io.StringIO())
    with pytest.raises(CommandError, match="user"):
        call_command("apikey", "create", "--user", "resident", stdout=io.StringIO())
    with pytest.raises(CommandError, match="no such user"):
        call_command("apikey", "create", "--user", "nobody", stdout=io.StringIO())
    assert not ApiKey.objects.exists()


def test_apikey_list_shows_prefixes_never_keys_and_revoke_hides_them(org):
    raw = make_key(org.reception, offices=["Y01"])
    prefix = ApiKey.objects.get().prefix
    out = io.StringIO()
    call_command("apikey", "list", stdout=out)
    assert prefix in out.getvalue() and raw not in out.getvalue()
    out = io.StringIO()
    call_command("apikey", "revoke", prefix, stdout=out)
    assert "revoked" in out.getvalue()
    out = io.StringIO()
    call_command("apikey", "list", stdout=out)
    assert prefix not in out.getvalue()
    out = io.StringIO()
    call_command("apikey", "list", "--all", stdout=out)
    assert "(revoked)" in out.getvalue()


def test_the_kesu_command_knows_apikey():
    from kesu import cli

    assert "apikey" in cli.COMMANDS and "apikey" in cli.HELP
