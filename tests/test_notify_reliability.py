"""Never lose, never duplicate — with real parts: an aiosmtpd SMTP server, a local HTTP receiver (an
SMS gateway / robot that honours idempotency keys), a private redis-server stopped and started, real
Celery workers (one killed with SIGKILL mid-send), beat, and two gunicorn web processes on PostgreSQL.

Tests needing Redis or PostgreSQL skip when those are not reachable, except on CI (CI=true).
"""

from __future__ import annotations

import datetime as dt
import shutil
import threading
import time
from collections import Counter

import pytest
from conftest import local
from django.db import connection
from django.utils import timezone
from notify_support import (
    TEST_REDIS_URL,
    RedisServer,
    flush_redis,
    free_port,
    http_get_json,
    kesu_env,
    need,
    processes,
    redis_reachable,
    session_cookie,
    sms_lines,
    wait_until,
)

from kesu.complaints import services
from kesu.notify import delivery
from kesu.notify.models import OfficeChannel, Outbox
from kesu.org.choices import DepartmentType

pytest_plugins = ["notify_support"]  # fixtures: notify_env, http_sink, smtp_sink

TUE_10 = local(2026, 3, 10, 10, 0)
# A working Tuesday 10:00 in each of eight months, one per thread: numbers are counted per office and
# month, so the threads do not all queue on one counter row (test_concurrency covers that case).
TUESDAYS = [
    local(2026, m, d, 10, 0)
    for m, d in ((1, 13), (2, 10), (3, 10), (4, 14), (5, 12), (6, 9), (7, 14), (8, 11))
]
MIN = dt.timedelta(minutes=1)


def register(org, received: dt.datetime | None = None, **kwargs):
    return services.register(
        org.reception,
        office=org.a.office,
        channel="phone",
        content="3栋2号电梯经常停运，昨晚困了一位老人十多分钟。",
        complainant_name="王建国",
        phone=org.a.resident.phone,
        unit=org.a.unit,
        received_at=received,
        at=received,
        **kwargs,
    )


def pending() -> int:
    return Outbox.objects.exclude(channel="webhook").filter(state="pending").count()


# ---------------------------------------------------------------------------------------------
# SMTP down for a while


def test_mail_waits_while_the_smtp_server_is_down_and_then_every_message_arrives_exactly_once(
    org, notify_env, smtp_sink
):
    s = notify_env.settings
    s.KESU_SMTP_URL, s.KESU_DELIVERY_BACKOFF_SECONDS, s.KESU_DELIVERY_BACKOFF_MAX_SECONDS = (
        smtp_sink.url,
        30,
        300,
    )
    for user in (org.handler, org.eng_manager):
        user.email = f"{user.username}@wuye.example.com"
        user.save()
    smtp_sink.stop()
    for i in range(15):
        c = register(org, TUE_10 + i * MIN)
        services.dispatch(
            c,
            org.supervisor,
            department=org.a.dept[DepartmentType.ENGINEERING],
            handler=org.handler,
            at=TUE_10 + i * MIN,
        )
    now = local(2026, 3, 10, 11, 0)
    for _ in range(4):  # down for a while: every mail is tried and put back, with a growing wait
        delivery.deliver_due(now=now)
        now += 5 * MIN
    mail = Outbox.objects.filter(channel="email")
    assert mail.count() == 30 and not smtp_sink.messages
    assert all(
        m.state == "pending" and m.attempts >= 3 and "邮件服务器连接失败" in m.last_error for m in mail
    )

    smtp_sink.start()  # back up, on the same port
    for _ in range(10):
        if not pending():
            break
        delivery.deliver_due(now=now)
        now += 10 * MIN
    assert pending() == 0
    ids = smtp_sink.message_ids()
    assert len(ids) == 30 and set(ids.values()) == {1}  # every message, exactly once
    assert Counter(m["To"] for m in smtp_sink.messages) == {
        "handler@wuye.example.com": 15,
        "eng_manager@wuye.example.com": 15,
    }


# ---------------------------------------------------------------------------------------------
# 1,000 complaints at once


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_thousand_complaints_registered_concurrently_get_every_expected_notification_exactly_once(
    org, notify_env
):
    n_threads, per_thread = 8, 125
    registering = threading.Event()
    registering.set()
    errors: list[BaseException] = []
    numbers: list[str] = []
    lock = threading.Lock()

    def register_many(t: int) -> None:
        try:
            for i in range(per_thread):
                k = t * per_thread + i
                received = TUESDAYS[t] + dt.timedelta(seconds=i)
                major = k % 10 == 0  # one in ten is major: alerts to four managers and the executive too
                c = register(org, received, is_major=major, severity="major" if major else "general")
                with lock:
                    numbers.append(c.number)
        except BaseException as e:
            errors.append(e)
        finally:
            connection.close()

    def deliver_meanwhile() -> None:
        try:
            while registering.is_set() or pending():
                if not delivery.deliver_due().total:
                    time.sleep(0.02)
        except BaseException as e:
            errors.append(e)
        finally:
            connection.close()

    writers = [threading.Thread(target=register_many, args=(t,)) for t in range(n_threads)]
    deliverers = [threading.Thread(target=deliver_meanwhile)]
    for t in writers + deliverers:
        t.start()
    for t in writers:
        t.join(timeout=180)
    registering.clear()
    for t in deliverers:
        t.join(timeout=120)
    assert not errors, errors
    assert not any(t.is_alive() for t in writers + deliverers)

    assert len(numbers) == len(set(numbers)) == 1000
    rows = Outbox.objects.all()
    acks = rows.filter(kind="ack", channel="sms")
    assert acks.count() == 1000 and acks.values("complaint").distinct().count() == 1000
    major = rows.filter(kind="major", channel="inapp")
    assert major.count() == 500
    assert set(Counter(major.values_list("complaint", flat=True)).values()) == {5}
    assert Counter(major.values_list("user__username", flat=True)) == {
        "director": 100,
        "cs_manager": 100,
        "eng_manager": 100,
        "quality": 100,
        "executive": 100,
    }
    assert rows.count() == 1500 and not rows.exclude(state="sent").exists()
    assert set(rows.values_list("attempts", flat=True)) == {1}  # nothing sent twice
    log = sms_lines(notify_env.sms_log)
    assert len(log) == 1000 and {line[0] for line in log} == set(acks.values_list("delivery_key", flat=True))


# ---------------------------------------------------------------------------------------------
# Redis stopped and started; a worker killed; the whole scaled mode


def sms_env(home, redis_url: str, sink, **extra):
    return kesu_env(
        home,
        KESU_REDIS_URL=redis_url,
        KESU_SMS_PROVIDER="http",
        KESU_SMS_HTTP_URL=sink.url("/sms"),
        KESU_DELIVERY_SECONDS="1",
        KESU_SWEEP_SECONDS="2",
        KESU_DELIVERY_BACKOFF_SECONDS="1",
        **extra,
    )


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_redis_stopped_and_started_while_complaints_are_registered_loses_nothing_and_sends_nothing_twice(
    org, notify_env, http_sink, tmp_path
):
    need(bool(shutil.which("redis-server")), "redis-server is not installed")
    redis = RedisServer(tmp_path).start()
    notify_env.settings.KESU_REDIS_URL = redis.url  # this process wakes the worker after each commit
    delivery._quiet_until = 0.0
    env = sms_env(tmp_path, redis.url, http_sink)
    try:
        with processes(tmp_path) as procs:
            procs.start("worker", ["worker", "--concurrency", "2"], env)
            procs.start("beat", ["beat"], env)

            def batch(n: int) -> None:
                for _ in range(n):
                    register(org)

            batch(10)
            wait_until(
                lambda: len(http_sink.accepted) == 10, timeout=90, what="the first ten acknowledgements"
            )
            redis.stop()
            batch(10)  # the wake-up calls fail; the rows wait in the database
            assert Outbox.objects.filter(channel="sms", state="pending").exists()
            time.sleep(1.5)
            redis.start()
            delivery._quiet_until = 0.0
            batch(10)
            # Generous: a Celery worker reconnecting to a restarted broker backs off for a while.
            wait_until(lambda: len(http_sink.accepted) == 30 and not pending(), timeout=150, what="all 30")
    finally:
        redis.stop()
    sms = Outbox.objects.filter(channel="sms")
    assert sms.count() == 30 and set(sms.values_list("state", flat=True)) == {"sent"}
    assert set(http_sink.accepted) == set(sms.values_list("delivery_key", flat=True))
    assert set(http_sink.keys().values()) == {1}  # each sent once: nothing twice
    assert pending() == 0


REGISTER_AS_A_WEB_PROCESS = """
import django
django.setup()
from kesu.complaints import services
from kesu.org.models import User
u = User.objects.get(username="reception")
c = services.register(u, office=u.offices.get(), channel="phone", content="Redis 停机时登记的投诉",
                      complainant_name="王建国", phone="13800138000")
print(c.number)
"""


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_web_process_in_scaled_mode_registers_complaints_while_redis_is_down(org, tmp_path):
    """With KESU_REDIS_URL set and nothing listening there, intake still works (no cache, no queue on
    its path) and its messages wait in the outbox for the next beat after Redis returns."""
    import subprocess
    import sys

    from notify_support import ROOT

    env = kesu_env(tmp_path, KESU_REDIS_URL=f"redis://127.0.0.1:{free_port()}/9")  # nothing listens there
    out = subprocess.run(
        [sys.executable, "-c", REGISTER_AS_A_WEB_PROCESS],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr[-1500:]
    number = out.stdout.strip().splitlines()[-1]
    assert Outbox.objects.filter(complaint__number=number, channel="sms", state="pending").exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_worker_killed_mid_delivery_delivers_the_message_once_after_a_restart(
    org, notify_env, http_sink, tmp_path
):
    need(redis_reachable(TEST_REDIS_URL), f"Redis is not reachable at {TEST_REDIS_URL}")
    flush_redis(TEST_REDIS_URL)
    notify_env.settings.KESU_REDIS_URL = TEST_REDIS_URL
    delivery._quiet_until = 0.0
    env = sms_env(
        tmp_path, TEST_REDIS_URL, http_sink, KESU_DELIVERY_LEASE_SECONDS="3", KESU_NOTIFY_HTTP_TIMEOUT="60"
    )
    http_sink.hold()  # the gateway takes the message but does not answer yet
    with processes(tmp_path) as procs:
        worker = procs.start("worker-1", ["worker", "--concurrency", "1"], env)
        c = register(org)
        sms = Outbox.objects.get(complaint=c, channel="sms")
        wait_until(lambda: http_sink.requests, timeout=90, what="the worker to start sending")
        sms.refresh_from_db()
        assert (sms.state, sms.attempts) == ("pending", 1)  # claimed, sent, not yet marked…
        procs.kill(worker)  # …when the worker dies: SIGKILL, pool and all
        http_sink.release()
        time.sleep(0.5)
        sms.refresh_from_db()
        assert sms.state == "pending"

        procs.start("worker-2", ["worker", "--concurrency", "1"], env)

        def sent() -> bool:
            delivery.kick_now()  # no beat here: wake the new worker until the dead one's lease is over
            sms.refresh_from_db()
            return sms.state == "sent"

        wait_until(sent, timeout=90, interval=0.5, what="the restarted worker to deliver")
    assert sms.attempts == 2
    assert http_sink.keys()[sms.delivery_key] == 2  # sent twice (once by each worker)…
    assert list(http_sink.accepted) == [
        sms.delivery_key
    ]  # …and received once: the key made the repeat a no-op
    flush_redis(TEST_REDIS_URL)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_web_processes_one_worker_and_beat_on_postgresql_notify_a_complaint_once(
    org, notify_env, http_sink, smtp_sink, tmp_path
):
    if connection.vendor != "postgresql":
        pytest.skip("the scaled mode runs on PostgreSQL: this test runs in the PostgreSQL pass")
    redis_url = TEST_REDIS_URL.rsplit("/", 1)[0] + "/11"
    need(redis_reachable(redis_url), f"Redis is not reachable at {redis_url}")
    flush_redis(redis_url)
    notify_env.settings.KESU_REDIS_URL = redis_url
    delivery._quiet_until = 0.0
    OfficeChannel.objects.create(office=org.a.office, wecom_webhook=http_sink.url("/wecom/Y01"))
    org.handler.email = "handler@wuye.example.com"
    org.handler.save()
    env = sms_env(
        tmp_path, redis_url, http_sink, KESU_SMTP_URL=smtp_sink.url, KESU_BASE_URL="http://kesu.test"
    )
    ports = [free_port(), free_port()]
    with processes(tmp_path) as procs:
        for i, port in enumerate(ports):
            home = tmp_path / f"web{i}"
            home.mkdir()
            web_env = {**env, "KESU_HOME": str(home)}
            args = ["serve", "--no-sweeper", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
            procs.start(f"web-{i}", args, web_env)
        procs.start("worker", ["worker", "--concurrency", "2"], env)
        procs.start("beat", ["beat"], env)
        for port in ports:
            wait_until(lambda p=port: _up(f"http://127.0.0.1:{p}/healthz"), timeout=60, what=f"web on {port}")

        # A major complaint whose 10-minute forwarding limit passes a few seconds from now: beat's
        # sweep must notice it, and the worker deliver what it queues.
        c = register(
            org, timezone.now() - 10 * MIN + dt.timedelta(seconds=3), is_major=True, severity="major"
        )
        wait_until(
            lambda: (
                Outbox.objects.filter(complaint=c, kind="overdue_forward", channel="inapp").exists()
                and not pending()
            ),
            timeout=60,
            what="the breach found by beat and delivered",
        )
        c = services.dispatch(
            c, org.supervisor, department=org.a.dept[DepartmentType.ENGINEERING], handler=org.handler
        )
        wait_until(
            lambda: len(smtp_sink.messages) == 1 and not pending(), timeout=30, what="the handler's e-mail"
        )

        # Either web process shows each person the same notifications: the handler their new job, the
        # supervisor the forwarding deadline about to pass and then passed.
        supervisor_rows = Outbox.objects.filter(user=org.supervisor, channel="inapp", complaint=c)
        assert set(supervisor_rows.values_list("kind", flat=True)) == {"due_soon", "overdue_forward"}
        for user, unread in ((org.handler, 1), (org.supervisor, 2)):
            cookie = session_cookie(user)
            for port in ports:
                assert http_get_json(f"http://127.0.0.1:{port}/notifications/unread.json", cookie) == {
                    "unread": unread
                }

    rows = Outbox.objects.filter(complaint=c)
    assert set(rows.values_list("state", flat=True)) == {"sent"}
    assert set(rows.values_list("attempts", flat=True)) == {1}  # nothing sent twice
    assert [r["key"] for r in http_sink.accepted_for("/sms")] == [f"{_event(c, 'registered')}:ack:sms"]
    group = sorted(
        r["json"]["markdown"]["content"].split("**")[1] for r in http_sink.accepted_for("/wecom/Y01")
    )
    assert group == sorted(rows.filter(channel="wecom").values_list("subject", flat=True))  # once each
    assert {f"投诉超时 {c.number}", f"重大投诉 {c.number}"} <= set(group)  # (and 夜间新投诉 at night)
    assert set(http_sink.keys().values()) == {1}
    (mail,) = smtp_sink.messages
    assert mail["To"] == "handler@wuye.example.com" and mail["Subject"] == f"新派单 {c.number}"
    assert f"https://kesu.example.com/complaints/{c.number}/" in mail.get_content()  # the writer's base URL
    flush_redis(redis_url)


def _up(url: str) -> bool:
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


def _event(c, type_: str) -> str:
    return f"e{c.events.get(type=type_).pk}"
