"""The deliverer (kesu.notify.delivery): due rows are claimed once, sent, marked; failures back off up
to a cap and then fail with their reason, for admins to see; webhook rows are left to the API."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from conftest import local
from notify_support import sms_lines

from kesu.notify import delivery
from kesu.notify.channels.sms import FileSms
from kesu.notify.models import Outbox

pytest_plugins = ["notify_support"]  # fixtures: notify_env, http_sink, smtp_sink

TUE_10 = local(2026, 3, 10, 10, 0)
SEC = dt.timedelta(seconds=1)


def sms_row(n: int = 1, at: dt.datetime = TUE_10, **extra) -> Outbox:
    values = dict(
        created_at=at,
        kind="ack",
        channel=Outbox.Channel.SMS,
        address=f"1380000{n:04d}",
        subject=f"投诉 Y01-202603-{n:04d}",
        body=f"您的投诉已受理，编号 Y01-202603-{n:04d}。",
        payload={"number": f"Y01-202603-{n:04d}"},
        delivery_key=f"test{n}:ack:sms",
        next_attempt_at=at,
    )
    values.update(extra)
    return Outbox.objects.create(**values)


def test_a_due_message_is_sent_once_and_marked_sent(db, notify_env):
    row = sms_row()
    result = delivery.deliver_due(now=TUE_10 + SEC)
    assert (result.sent, result.retried, result.failed) == (1, 0, 0)
    row.refresh_from_db()
    assert row.state == Outbox.State.SENT and row.sent_at is not None and row.attempts == 1
    lines = sms_lines(notify_env.sms_log)
    assert len(lines) == 1
    key, _time, phone, text = lines[0]
    assert (key, phone) == ("test1:ack:sms", "13800000001")
    assert text == "【客诉】您的投诉已受理，编号 Y01-202603-0001。"

    assert delivery.deliver_due(now=TUE_10 + 60 * SEC).total == 0  # nothing left to do
    assert len(sms_lines(notify_env.sms_log)) == 1


def test_a_message_not_yet_due_waits(db, notify_env):
    sms_row(next_attempt_at=TUE_10 + 60 * SEC)
    assert delivery.deliver_due(now=TUE_10).total == 0
    assert delivery.deliver_due(now=TUE_10 + 61 * SEC).sent == 1


def test_a_message_sent_by_a_deliverer_that_died_before_marking_is_sent_again_after_its_lease_and_arrives_once(
    db, notify_env
):
    notify_env.settings.KESU_DELIVERY_LEASE_SECONDS = 60
    sms_row()
    (claimed,) = delivery.claim(TUE_10, 10)
    FileSms().send(claimed)  # …and the deliverer dies here, before marking the row sent
    row = Outbox.objects.get()
    assert (row.state, row.attempts, row.next_attempt_at) == (Outbox.State.PENDING, 1, TUE_10 + 60 * SEC)

    assert delivery.deliver_due(now=TUE_10 + 59 * SEC).total == 0  # still leased to the dead one
    assert delivery.deliver_due(now=TUE_10 + 61 * SEC).sent == 1  # sent again, same delivery key…
    row.refresh_from_db()
    assert (row.state, row.attempts) == (Outbox.State.SENT, 2)
    assert len(sms_lines(notify_env.sms_log)) == 1  # …so the SMS log holds it once


def test_a_deliverer_whose_lease_ran_out_does_not_overwrite_the_one_that_took_over(db, notify_env):
    notify_env.settings.KESU_DELIVERY_LEASE_SECONDS = 10
    sms_row()
    (slow,) = delivery.claim(TUE_10, 10)
    (fast,) = delivery.claim(TUE_10 + 11 * SEC, 10)  # the lease ran out: another deliverer takes it
    assert delivery.process_one(fast) == "sent"
    assert delivery.process_one(slow) == "lost"  # the slow one finishes later and marks nothing
    row = Outbox.objects.get()
    assert (row.state, row.attempts) == (Outbox.State.SENT, 2)
    assert len(sms_lines(notify_env.sms_log)) == 1


def test_two_deliverers_never_claim_the_same_row(db, notify_env):
    for n in range(1, 21):
        sms_row(n)
    first = delivery.claim(TUE_10 + SEC, 12)
    second = delivery.claim(TUE_10 + SEC, 12)
    assert len(first) == 12 and len(second) == 8
    assert not {r.pk for r in first} & {r.pk for r in second}


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_deliverers_in_parallel_threads_send_every_message_exactly_once(notify_env):
    from django.db import connection

    for n in range(1, 301):
        sms_row(n)
    sent = []
    lock = threading.Lock()

    class Counting(FileSms):
        def send(self, row):
            with lock:
                sent.append(row.delivery_key)
            super().send(row)

    notify_env.settings.KESU_SMS_PROVIDER = f"{__name__}.CountingSms"
    globals()["CountingSms"] = Counting
    errors = []

    def work():
        try:
            delivery.deliver_due(batch=7)
        except BaseException as e:
            errors.append(e)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    assert len(sent) == 300 and len(set(sent)) == 300
    assert Outbox.objects.filter(state=Outbox.State.SENT).count() == 300
    assert len(sms_lines(notify_env.sms_log)) == 300


def test_failures_back_off_exponentially_up_to_the_cap_then_fail_with_the_reason(db, notify_env, http_sink):
    s = notify_env.settings
    s.KESU_SMS_PROVIDER, s.KESU_SMS_HTTP_URL = "http", http_sink.url("/sms")
    s.KESU_DELIVERY_BACKOFF_SECONDS, s.KESU_DELIVERY_BACKOFF_MAX_SECONDS, s.KESU_DELIVERY_MAX_ATTEMPTS = (
        10,
        40,
        5,
    )
    http_sink.fail_next = 100
    row = sms_row()
    now, waits = TUE_10, []
    for _ in range(4):
        assert delivery.deliver_due(now=now).retried == 1
        row.refresh_from_db()
        waits.append((row.next_attempt_at - now).total_seconds())
        now = row.next_attempt_at
    assert waits == [10, 20, 40, 40]  # doubling, capped
    assert "HTTP 500" in row.last_error and row.state == Outbox.State.PENDING

    assert delivery.deliver_due(now=now).failed == 1  # the fifth attempt was the last
    row.refresh_from_db()
    assert row.state == Outbox.State.FAILED and row.attempts == 5
    assert "HTTP 500" in row.last_error and "已重试 5 次" in row.last_error
    assert len(http_sink.requests) == 5


def test_a_message_that_can_never_be_sent_fails_at_once_with_the_reason(db, notify_env, http_sink):
    s = notify_env.settings
    s.KESU_SMS_PROVIDER, s.KESU_SMS_HTTP_URL = "http", http_sink.url("/sms")
    http_sink.status_next = 400
    row = sms_row()
    assert delivery.deliver_due(now=TUE_10).failed == 1
    row.refresh_from_db()
    assert row.state == Outbox.State.FAILED and row.attempts == 1 and "HTTP 400" in row.last_error

    no_phone = sms_row(2, address="")
    assert delivery.deliver_due(now=TUE_10).failed == 1
    no_phone.refresh_from_db()
    assert no_phone.last_error == "没有手机号"


def test_a_message_that_fails_and_then_goes_through_is_sent_once(db, notify_env, http_sink):
    s = notify_env.settings
    s.KESU_SMS_PROVIDER, s.KESU_SMS_HTTP_URL, s.KESU_DELIVERY_BACKOFF_SECONDS = (
        "http",
        http_sink.url("/sms"),
        5,
    )
    http_sink.fail_next = 2
    row = sms_row()
    now = TUE_10
    while Outbox.objects.filter(state=Outbox.State.PENDING).exists():
        delivery.deliver_due(now=now)
        now += 60 * SEC
    row.refresh_from_db()
    assert row.state == Outbox.State.SENT and row.attempts == 3
    assert len(http_sink.requests) == 3 and list(http_sink.accepted) == ["test1:ack:sms"]


def test_webhook_rows_are_left_to_the_api_deliverer(db, notify_env):
    hook = sms_row(channel=Outbox.Channel.WEBHOOK, address="https://hooks.example.com/x")
    assert delivery.deliver_due(now=TUE_10 + SEC).total == 0
    hook.refresh_from_db()
    assert (hook.state, hook.attempts) == (Outbox.State.PENDING, 0)


def test_failed_messages_are_listed_for_admins_with_their_reason_and_can_be_sent_again(
    db, notify_env, http_sink, admin_client
):
    s = notify_env.settings
    s.KESU_SMS_PROVIDER, s.KESU_SMS_HTTP_URL = "http", http_sink.url("/sms")
    http_sink.status_next = 403
    failed = sms_row(1)
    sms_row(2)
    delivery.deliver_due(now=TUE_10)
    failed.refresh_from_db()
    assert failed.state == Outbox.State.FAILED

    page = admin_client.get("/admin/notify/outbox/", {"state__exact": "failed"})
    assert page.status_code == 200
    text = page.content.decode()
    assert "HTTP 403" in text and "13800000001" in text and "13800000002" not in text

    answer = admin_client.post(
        "/admin/notify/outbox/", {"action": "retry", "_selected_action": [failed.pk, failed.pk + 1]}
    )
    assert answer.status_code == 302
    failed.refresh_from_db()
    assert (failed.state, failed.attempts) == (Outbox.State.PENDING, 0)
    assert delivery.deliver_due(now=TUE_10 + SEC).sent == 1
    failed.refresh_from_db()
    assert failed.state == Outbox.State.SENT
