"""Webhooks: subscriptions (API and admin), outbox rows in the change's transaction, signed delivery to a
real local HTTP receiver, retry with back-off, order per complaint, exactly once per delivery id."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import io
import json
import re
import threading

import pytest
from api_support import Api, Receiver, api_for, assert_problem, free_port
from django.core.management import call_command
from django.db import connection, transaction
from django.test import Client, override_settings
from django.utils import timezone

from kesu.api.models import WebhookSubscription
from kesu.api.webhooks import backoff, deliver_webhooks, verify
from kesu.complaints import services
from kesu.complaints.sweep import sweep
from kesu.notify.models import Outbox
from kesu.org.choices import DepartmentType

ALL = [
    "registered",
    "assessed",
    "dispatched",
    "overdue",
    "escalated",
    "resolved",
    "called_back",
    "reopened",
    "closed",
]


def _subscribe(
    owner, url: str, events=ALL, offices=(), secret: str = "s3cret-s3cret-s3cret"
) -> WebhookSubscription:
    sub = WebhookSubscription.objects.create(owner=owner, url=url, events=list(events), secret=secret)
    sub.offices.set(offices)
    return sub


def _webhook_rows():
    return Outbox.objects.filter(channel=Outbox.Channel.WEBHOOK).order_by("id")


def _register(org, **kwargs):
    params = dict(
        office=org.a.office,
        channel="phone",
        content="3栋2号电梯经常停运",
        complainant_name="王建国",
        phone=org.a.resident.phone,
        unit=org.a.unit,
    )
    params.update(kwargs)
    return services.register(org.reception, **params)


# --- subscriptions through the API ---


@pytest.mark.django_db
def test_a_manager_subscribes_and_sees_the_secret_once(org):
    api = api_for(org.director)
    response = api.post(
        "/webhooks/", {"url": "https://erp.example.com/hooks", "events": ["resolved", "registered"]}
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["secret"].startswith("whsec_") and body["events"] == ["registered", "resolved"]
    assert body["offices"] == [] and body["owner"] == "director"
    listed = api.get("/webhooks/").json()
    assert [s["id"] for s in listed] == [body["id"]] and "secret" not in listed[0]
    assert "secret" not in api.get(f"/webhooks/{body['id']}/").json()


@pytest.mark.django_db
def test_subscriptions_are_changed_and_deleted(org):
    api = api_for(org.director)
    sid = api.post(
        "/webhooks/", {"url": "https://erp.example.com/h", "events": ["closed"], "offices": ["Y01"]}
    ).json()["id"]
    body = api.patch(f"/webhooks/{sid}/", {"is_active": False, "events": ["closed", "overdue"]}).json()
    assert (
        body["is_active"] is False and body["events"] == ["overdue", "closed"] and body["offices"] == ["Y01"]
    )
    assert api.delete(f"/webhooks/{sid}/").status_code == 204
    assert not WebhookSubscription.objects.exists()


@pytest.mark.django_db
def test_subscriptions_are_checked_and_scoped(org):
    api = api_for(org.director)
    problem = assert_problem(api.post("/webhooks/", {"url": "ftp://x.example.com", "events": ["nope"]}), 400)
    assert {"url", "events.0"} <= set(problem["errors"])
    problem = assert_problem(
        api.post("/webhooks/", {"url": "https://a.example.com", "events": ["closed"], "offices": ["Y02"]}),
        400,
    )
    assert "offices" in problem["errors"]
    # Department staff may not send complaint data out; a read key may not subscribe.
    assert_problem(
        api_for(org.handler).post("/webhooks/", {"url": "https://a.example.com", "events": ["closed"]}), 403
    )
    assert_problem(
        api_for(org.director, scope="read").post(
            "/webhooks/", {"url": "https://a.example.com", "events": ["closed"]}
        ),
        403,
    )
    # Someone else's subscription is not found.
    other = _subscribe(org.director2, "https://b.example.com")
    assert_problem(api.get(f"/webhooks/{other.pk}/"), 404)


@pytest.mark.django_db
def test_a_key_limited_to_an_office_subscribes_to_that_office_only(org):
    body = (
        api_for(org.quality, offices=["Y02"])
        .post("/webhooks/", {"url": "https://a.example.com", "events": ["closed"]})
        .json()
    )
    assert body["offices"] == ["Y02"]


@pytest.mark.django_db
def test_the_admin_lists_and_adds_subscriptions(org):
    from kesu.org.models import User

    admin = User.objects.create_superuser("root", "root@example.com", "pw-12345678")
    client = Client()
    client.force_login(admin)
    assert client.get("/admin/api/webhooksubscription/add/").status_code == 200
    response = client.post(
        "/admin/api/webhooksubscription/add/",
        {
            "name": "ERP",
            "url": "https://erp.example.com/h",
            "events": ["closed"],
            "owner": org.director.pk,
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    sub = WebhookSubscription.objects.get()
    assert sub.secret.startswith("whsec_") and sub.events == ["closed"]
    assert client.get("/admin/api/webhooksubscription/").status_code == 200
    assert client.get("/admin/api/apikey/add/").status_code == 200


@pytest.mark.django_db
def test_the_admin_makes_a_key_and_shows_it_once(org):
    from kesu.api.models import ApiKey
    from kesu.org.models import User

    admin = User.objects.create_superuser("root", "root@example.com", "pw-12345678")
    client = Client()
    client.force_login(admin)
    response = client.post(
        "/admin/api/apikey/add/",
        {"name": "12345 hotline", "user": org.reception.pk, "offices": [org.a.office.pk], "scope": "write"},
        follow=True,
    )
    assert response.status_code == 200
    key = ApiKey.objects.get()
    shown = [str(m) for m in response.context["messages"]]
    raw = next(m.group(0) for text in shown if (m := re.search(r"kesu_[A-Za-z0-9_-]{40,}", text)))
    assert raw.startswith(key.prefix) and [o.code for o in key.offices.all()] == ["Y01"]
    assert api_for_raw(raw).get("/complaints/").status_code == 200
    assert raw not in client.get(f"/admin/api/apikey/{key.pk}/change/").content.decode()


def api_for_raw(raw: str) -> Api:
    return Api(raw)


# --- queueing ---


@pytest.mark.django_db
def test_an_event_queues_one_row_per_matching_subscription(org):
    want = _subscribe(org.director, "https://a.example.com", events=["registered"])
    _subscribe(org.director, "https://b.example.com", events=["closed"])  # other event
    _subscribe(org.quality, "https://c.example.com", offices=[org.b.office])  # other office
    _subscribe(org.director2, "https://d.example.com")  # cannot see office A's complaints
    inactive = _subscribe(org.director, "https://e.example.com")
    inactive.is_active = False
    inactive.save()
    c = _register(org)
    rows = list(_webhook_rows())
    assert len(rows) == 1
    row = rows[0]
    assert row.payload["subscription"] == want.pk and row.complaint == c and row.state == "pending"
    body = json.loads(row.body)
    assert body["event"] == "registered" and body["office"] == "Y01" and body["id"] == row.payload["delivery"]
    assert body["complaint"]["number"] == c.number and body["timeline_event"]["type"] == "registered"
    assert "****" in body["complaint"]["complainant_phone"]


@pytest.mark.django_db
def test_the_row_is_written_in_the_same_transaction_as_the_change(org):
    _subscribe(org.director, "https://a.example.com")

    class Abort(Exception):
        pass

    with pytest.raises(Abort), transaction.atomic():
        _register(org)
        assert _webhook_rows().count() == 1
        raise Abort
    assert _webhook_rows().count() == 0


@pytest.mark.django_db
def test_overdue_from_the_sweep_is_a_webhook_event(org):
    _subscribe(org.director, "https://a.example.com", events=["overdue"])
    c = _register(org)
    sweep(now=c.forward_due_at + dt.timedelta(minutes=1))
    events = [json.loads(r.body)["timeline_event"]["data"]["kind"] for r in _webhook_rows()]
    assert "forward" in events


# --- delivery ---


@pytest.mark.django_db
def test_delivery_is_signed_with_the_subscription_secret(org):
    with Receiver() as receiver:
        _subscribe(org.director, receiver.url, secret="whsec_test-secret-123456")
        c = _register(org)
        result = deliver_webhooks()
        assert result.sent == 1
        ((headers, body),) = receiver.received
        expected = hmac.new(b"whsec_test-secret-123456", body, hashlib.sha256).hexdigest()
        assert headers["x-kesu-signature"] == expected
        assert verify("whsec_test-secret-123456", body, headers["x-kesu-signature"])
        assert verify("whsec_test-secret-123456", body, "sha256=" + expected)
        assert not verify("wrong-secret", body, headers["x-kesu-signature"])
        payload = json.loads(body)
        assert headers["x-kesu-delivery"] == payload["id"] and headers["x-kesu-event"] == "registered"
        assert headers["content-type"].startswith("application/json")
        assert payload["complaint"]["number"] == c.number
        row = _webhook_rows().get()
        assert row.state == "sent" and row.attempts == 1 and row.sent_at is not None


@pytest.mark.django_db
def test_a_failed_delivery_is_retried_with_back_off_and_the_same_id_and_body(org):
    with Receiver(statuses=[500]) as receiver:
        _subscribe(org.director, receiver.url, events=["registered"])
        _register(org)
        now = timezone.now()
        assert deliver_webhooks(now).failed_attempts == 1
        row = _webhook_rows().get()
        assert row.state == "pending" and row.attempts == 1 and row.last_error == "HTTP 500"
        assert row.next_attempt_at == now + backoff(1)
        assert deliver_webhooks(now + dt.timedelta(seconds=5)).sent == 0  # not due yet
        assert deliver_webhooks(now + backoff(1) + dt.timedelta(seconds=1)).sent == 1
        assert len(receiver.attempts) == 2 and receiver.attempts[0] == receiver.attempts[1]
        assert _webhook_rows().get().state == "sent"


def test_back_off_doubles_and_is_capped():
    steps = [backoff(n).total_seconds() for n in range(1, 10)]
    assert steps[:4] == [15, 30, 60, 120] and max(steps) == 600


@pytest.mark.django_db
@override_settings(KESU_WEBHOOK_TIMEOUT_SECONDS=2)
def test_a_receiver_down_for_an_hour_gets_everything_in_order_once(org):
    port = free_port()
    _subscribe(org.director, f"http://127.0.0.1:{port}/hooks")
    eng = org.a.dept[DepartmentType.ENGINEERING]
    # Two complaints moving through their lifecycle while the receiver is down.
    a, b = _register(org, content="电梯停运"), _register(org, content="楼道灯坏了")
    start = timezone.now()
    for c in (a, b):
        c = services.assess(c, org.supervisor, nature="valid", severity="general", category="facilities")
        c = services.dispatch(c, org.supervisor, department=eng, handler=org.handler)
    services.resolve(c, org.handler, resolution="已修复")
    expected = {
        c.number: [r.payload["delivery"] for r in _webhook_rows().filter(complaint=c)] for c in (a, b)
    }
    assert [len(v) for v in expected.values()] == [3, 4]

    # An hour of sweeper passes every 30 s, all failing: one attempt per pass, never more.
    tries = sum(deliver_webhooks(start + dt.timedelta(seconds=30 * i)).failed_attempts for i in range(120))
    assert 1 <= tries <= 120
    assert _webhook_rows().filter(state="sent").count() == 0

    with Receiver(port=port) as receiver:
        later = start + dt.timedelta(hours=1, minutes=11)  # past the longest back-off
        result = deliver_webhooks(later)
        assert result.sent == 7 and deliver_webhooks(later + dt.timedelta(hours=1)).sent == 0
        got = [(p["complaint"]["number"], p["id"]) for p in receiver.bodies()]
    assert len({d for _n, d in got}) == len(got) == 7  # each delivery id exactly once
    for number, ids in expected.items():
        assert [d for n, d in got if n == number] == ids  # in order per complaint


@pytest.mark.django_db
def test_a_later_event_waits_for_an_earlier_one_of_the_same_complaint(org):
    with Receiver(statuses=[503]) as receiver:
        _subscribe(org.director, receiver.url, events=["registered", "assessed"])
        c = _register(org)
        services.assess(c, org.supervisor, nature="valid")
        now = timezone.now()
        deliver_webhooks(now)  # registered fails; assessed must not overtake it
        assert receiver.received == []
        deliver_webhooks(now + dt.timedelta(minutes=1))
        assert [p["event"] for p in receiver.bodies()] == ["registered", "assessed"]


@pytest.mark.django_db
def test_a_dead_receiver_does_not_hold_up_another_subscription(org):
    _subscribe(org.director, f"http://127.0.0.1:{free_port()}/down", events=["registered"])
    with Receiver() as receiver:
        _subscribe(org.director, receiver.url, events=["registered"])
        for i in range(3):
            _register(org, content=f"第{i}件")
        result = deliver_webhooks()
        assert result.sent == 3 and result.failed_attempts == 1  # one try at the dead one, then it rests
        assert len(receiver.received) == 3


@pytest.mark.django_db
def test_deliveries_of_a_deleted_subscription_are_given_up(org):
    sub = _subscribe(org.director, "http://127.0.0.1:9/none")
    _register(org)
    sub.delete()
    assert deliver_webhooks().gave_up == 1
    assert _webhook_rows().get().state == "failed"


@pytest.mark.django_db
def test_the_deliveries_endpoint_shows_state(org):
    with Receiver() as receiver:
        sub = _subscribe(org.director, receiver.url, events=["registered"])
        c = _register(org)
        deliver_webhooks()
    rows = api_for(org.director).get(f"/webhooks/{sub.pk}/deliveries/").json()
    assert [(r["event"], r["complaint"], r["state"], r["attempts"]) for r in rows] == [
        ("registered", c.number, "sent", 1)
    ]


@pytest.mark.django_db
def test_the_deliver_webhooks_command(org):
    with Receiver() as receiver:
        _subscribe(org.director, receiver.url, events=["registered"])
        _register(org)
        out = io.StringIO()
        call_command("deliver_webhooks", stdout=out)
        assert "1 sent" in out.getvalue() and len(receiver.received) == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_deliverers_at_once_send_each_delivery_once(org):
    with Receiver() as receiver:
        _subscribe(org.director, receiver.url, events=["registered", "assessed", "dispatched"])
        for i in range(5):
            c = _register(org, content=f"并发投递 {i}")
            services.assess(c, org.supervisor, nature="valid")
        barrier = threading.Barrier(3)
        errors = []

        def run():
            try:
                barrier.wait(timeout=30)
                deliver_webhooks()
            except BaseException as e:
                errors.append(e)
            finally:
                connection.close()

        threads = [threading.Thread(target=run) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert not errors
        deliver_webhooks()  # whatever a lease held back
        assert len(receiver.attempts) == len(set(receiver.attempts)) == 10
        assert _webhook_rows().filter(state="sent").count() == 10
