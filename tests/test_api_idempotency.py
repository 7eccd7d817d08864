"""Idempotency-Key: a repeated POST returns the first response and creates nothing new, also when the
two requests race; the same key with another body is 422."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from api_support import Api, api_for, assert_problem, make_key, register_body
from django.db import connection
from django.test import override_settings

from kesu.api.models import IdempotencyRecord
from kesu.complaints import services
from kesu.complaints.models import Complaint, ComplaintEvent


@pytest.mark.django_db
def test_a_repeated_post_replays_the_first_response_and_creates_nothing(org):
    api = api_for(org.reception)
    first = api.post("/complaints/", register_body(org), idempotency_key="call-0001")
    again = api.post("/complaints/", register_body(org), idempotency_key="call-0001")
    assert first.status_code == again.status_code == 201
    assert again.content == first.content and again["Location"] == first["Location"]
    assert again["Idempotent-Replayed"] == "true" and not first.has_header("Idempotent-Replayed")
    assert Complaint.objects.count() == 1


@pytest.mark.django_db
def test_key_order_and_whitespace_do_not_make_a_different_body(org):
    api = api_for(org.reception)
    body = register_body(org)
    assert api.post("/complaints/", body, idempotency_key="k1").status_code == 201
    reordered = dict(reversed(list(body.items())))
    assert api.post("/complaints/", reordered, idempotency_key="k1")["Idempotent-Replayed"] == "true"
    assert Complaint.objects.count() == 1


@pytest.mark.django_db
def test_the_same_key_with_another_body_or_path_is_422(org, make_complaint):
    api = api_for(org.reception)
    assert api.post("/complaints/", register_body(org), idempotency_key="k2").status_code == 201
    assert_problem(
        api.post("/complaints/", register_body(org, content="另一件事"), idempotency_key="k2"),
        422,
        "idempotency_key_reused",
    )
    c = make_complaint()
    assert_problem(api.post(f"/complaints/{c.number}/note/", {"text": "x"}, idempotency_key="k2"), 422)
    assert Complaint.objects.count() == 2


@pytest.mark.django_db
def test_actions_are_idempotent_too(org, make_complaint):
    c = make_complaint()
    api = api_for(org.supervisor)
    first = api.post(f"/complaints/{c.number}/note/", {"text": "已联系"}, idempotency_key="note-1")
    again = api.post(f"/complaints/{c.number}/note/", {"text": "已联系"}, idempotency_key="note-1")
    assert first.status_code == again.status_code == 200 and first.content == again.content
    assert ComplaintEvent.objects.filter(complaint=c, type="note").count() == 1


@pytest.mark.django_db
def test_keys_belong_to_their_caller(org):
    body = register_body(org)
    assert api_for(org.reception).post("/complaints/", body, idempotency_key="shared").status_code == 201
    assert api_for(org.supervisor).post("/complaints/", body, idempotency_key="shared").status_code == 201
    assert Complaint.objects.count() == 2


@pytest.mark.django_db
def test_a_refusal_is_replayed_as_it_was(org):
    api = api_for(org.reception)
    bad = register_body(org, office="Y99")
    first = api.post("/complaints/", bad, idempotency_key="bad-1")
    assert_problem(first, 400)
    again = api.post("/complaints/", bad, idempotency_key="bad-1")
    assert again.content == first.content and again["Idempotent-Replayed"] == "true"


@pytest.mark.django_db
def test_an_invalid_key_header_is_400(org):
    api = api_for(org.reception)
    assert_problem(
        api.post("/complaints/", register_body(org), idempotency_key="x" * 256),
        400,
        "idempotency_key_invalid",
    )
    assert_problem(api.post("/complaints/", register_body(org), idempotency_key="has space"), 400)
    assert not Complaint.objects.exists()


@pytest.mark.django_db
@override_settings(KESU_API_IDEMPOTENCY_HOURS=1)
def test_an_expired_key_runs_again(org):
    api = api_for(org.reception)
    assert api.post("/complaints/", register_body(org), idempotency_key="old").status_code == 201
    IdempotencyRecord.objects.update(created_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    again = api.post("/complaints/", register_body(org), idempotency_key="old")
    assert again.status_code == 201 and not again.has_header("Idempotent-Replayed")
    assert Complaint.objects.count() == 2


@pytest.mark.django_db
def test_a_server_error_keeps_nothing_so_the_retry_runs(org, monkeypatch):
    api = api_for(org.reception)
    real = services.register
    monkeypatch.setattr(services, "register", lambda *a, **k: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        api.post("/complaints/", register_body(org), idempotency_key="boom")
    assert not IdempotencyRecord.objects.exists()
    monkeypatch.setattr(services, "register", real)
    assert api.post("/complaints/", register_body(org), idempotency_key="boom").status_code == 201


# --- racing requests: real transactions, real threads ---


def _race(n: int, send) -> list:
    barrier = threading.Barrier(n)
    results: list = [None] * n
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = send(i)
        except BaseException as e:
            errors.append(e)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    return results


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_identical_requests_racing_create_one_complaint_and_get_the_same_answer(org, monkeypatch):
    raw = make_key(org.reception)
    body = register_body(org)
    real = services.register

    def slow_register(*args, **kwargs):
        time.sleep(0.3)  # hold the first request inside its transaction while the second arrives
        return real(*args, **kwargs)

    monkeypatch.setattr(services, "register", slow_register)
    responses = _race(2, lambda i: Api(raw).post("/complaints/", body, idempotency_key="race-1"))

    assert [r.status_code for r in responses] == [201, 201]
    assert responses[0].content == responses[1].content
    assert sorted(r.has_header("Idempotent-Replayed") for r in responses) == [False, True]
    assert Complaint.objects.count() == 1
    assert IdempotencyRecord.objects.count() == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_many_racing_repeats_of_an_action_record_it_once(org):
    c = services.register(
        org.reception,
        office=org.a.office,
        channel="phone",
        content="并发幂等测试",
        complainant_name="王建国",
        phone=org.a.resident.phone,
        unit=org.a.unit,
    )
    raw = make_key(org.supervisor)
    responses = _race(
        6,
        lambda i: Api(raw).post(
            f"/complaints/{c.number}/note/", {"text": "已联系"}, idempotency_key="note-race"
        ),
    )
    assert {r.status_code for r in responses} == {200}
    assert len({r.content for r in responses}) == 1
    assert ComplaintEvent.objects.filter(complaint=c, type="note").count() == 1
