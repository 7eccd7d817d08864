"""Running it: the embedded sweeper delivers and sweeps; `kesu worker` / `kesu beat` for the scaled
mode; the Celery tasks are idempotent; waking a worker is best effort and never blocks an action."""

from __future__ import annotations

import datetime as dt
import io
import json
import time

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from notify_support import free_port, sms_lines, wait_until

from kesu import cli
from kesu.complaints.models import SlaBreach
from kesu.notify import delivery
from kesu.notify.models import Outbox
from kesu.ops import jobs
from kesu.ops.celery import make_worker_app
from kesu.ops.sweeper import Sweeper

pytest_plugins = ["notify_support"]  # fixtures: notify_env, http_sink, smtp_sink


def major_complaint(org, minutes_ago: float):
    """A major complaint received `minutes_ago` (forward limit 10 min: overdue after 10)."""
    from kesu.complaints import services

    received = timezone.now() - dt.timedelta(minutes=minutes_ago)
    return services.register(
        org.reception,
        office=org.a.office,
        channel="phone",
        content="地下车库积水，车辆被淹。",
        complainant_name="李女士",
        phone=org.a.resident.phone,
        unit=org.a.unit,
        received_at=received,
        is_major=True,
        severity="major",
    )


def test_the_kesu_command_knows_worker_and_beat(capsys):
    assert {"worker", "beat"} <= cli.COMMANDS
    cli.main(["kesu", "--help"])
    out = capsys.readouterr().out
    assert "worker       scaled mode (KESU_REDIS_URL)" in out and "beat         scaled mode" in out


@pytest.mark.parametrize("command", ["worker", "beat"])
def test_worker_and_beat_explain_that_they_need_redis(db, settings, command):
    settings.KESU_REDIS_URL = ""
    with pytest.raises(CommandError, match="KESU_REDIS_URL"):
        call_command(command, stdout=io.StringIO())


def test_beat_schedules_every_periodic_job_on_its_interval_and_the_worker_runs_each(settings, tmp_path):
    settings.KESU_SWEEP_SECONDS, settings.KESU_DELIVERY_SECONDS = 30.0, 3.0
    app = make_worker_app("redis://127.0.0.1:6379/11")
    schedule = app.conf.beat_schedule
    # Every job of the one list, webhooks and the monthly report included, through its pace's entry.
    assert {job.name for job in jobs.JOBS} >= {"sweep", "deliver", "webhooks", "monthly_report", "digest"}
    scheduled = {
        job
        for entry in schedule.values()
        for job in jobs.at_pace(entry["task"].removeprefix("kesu.jobs.every_"))
    }
    assert scheduled == set(jobs.JOBS)
    assert {entry["task"]: entry["schedule"] for entry in schedule.values()} == {
        jobs.pace_task(jobs.DELIVERY): 3.0,
        jobs.pace_task(jobs.SWEEP): 30.0,
    }
    for entry in schedule.values():
        assert entry["task"] in app.tasks
    for job in jobs.JOBS:
        assert job.task in app.tasks
    # A wake-up call starts the outbox delivery job.
    assert jobs.BY_NAME["deliver"].task == delivery.DELIVER_TASK


def test_one_sweeper_pass_records_the_breach_and_delivers_its_messages(org, notify_env):
    c = major_complaint(org, minutes_ago=11)
    sweeper = Sweeper(interval=30, deliver_interval=3)
    sweeper.sweep_once()
    assert Outbox.objects.filter(complaint=c, kind="overdue_forward").exists()
    sweeper.deliver_once()
    assert not Outbox.objects.filter(state="pending").exists()
    assert [line[2] for line in sms_lines(notify_env.sms_log)] == [c.complainant_phone]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_sweeper_thread_delivers_every_few_seconds(org, notify_env):
    c = major_complaint(org, minutes_ago=1)
    sweeper = Sweeper(interval=60, deliver_interval=0.1)
    sweeper.start()
    try:
        wait_until(lambda: not Outbox.objects.filter(complaint=c, state="pending").exists(), timeout=10)
    finally:
        sweeper.stop()
        sweeper.join(timeout=10)
    assert not sweeper.is_alive()
    assert len(sms_lines(notify_env.sms_log)) == 1


def test_the_tasks_are_idempotent(org, notify_env):
    c = major_complaint(org, minutes_ago=11)
    app = make_worker_app("redis://127.0.0.1:6379/11")
    sweep, deliver = (app.tasks[jobs.BY_NAME[name].task] for name in ("sweep", "deliver"))
    sweep()
    assert SlaBreach.objects.filter(complaint=c).count() == 1
    sweep()
    assert SlaBreach.objects.filter(complaint=c).count() == 1
    queued = Outbox.objects.filter(state="pending").count()
    assert queued > 0
    deliver()  # its messages (and a morning digest, after 08:00)
    assert (
        not Outbox.objects.filter(state="pending").exists()
        and Outbox.objects.filter(state="sent").count() == queued
    )
    deliver()
    assert Outbox.objects.filter(state="sent").count() == queued
    assert len(sms_lines(notify_env.sms_log)) == 1


def test_an_action_wakes_a_worker_once_after_commit(
    org, notify_env, django_capture_on_commit_callbacks, monkeypatch
):
    notify_env.settings.KESU_REDIS_URL = "redis://127.0.0.1:6379/11"
    kicks = []
    monkeypatch.setattr(delivery, "kick_now", lambda task=delivery.DELIVER_TASK: kicks.append(task))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        major_complaint(org, minutes_ago=1)  # an SMS, major alerts, maybe night-duty rows: one transaction
    assert len(callbacks) == 1 and kicks == [delivery.DELIVER_TASK]


def test_without_redis_an_action_is_not_held_up_and_its_messages_wait_in_the_outbox(org, notify_env, caplog):
    notify_env.settings.KESU_REDIS_URL = f"redis://127.0.0.1:{free_port()}/9"  # nothing listens there
    delivery._quiet_until = 0.0
    try:
        started = time.monotonic()
        assert delivery.kick_now() is False
        assert time.monotonic() - started < 3
        assert "could not reach the task queue" in caplog.text
        started = time.monotonic()
        assert delivery.kick_now() is False  # quiet for a few seconds: no new attempt
        assert time.monotonic() - started < 0.05
    finally:
        delivery._quiet_until = 0.0
    c = major_complaint(org, minutes_ago=1)
    assert Outbox.objects.filter(complaint=c, state="pending").exists()


def test_the_scaled_workers_deliver_webhooks_and_the_monthly_report_too(org, notify_env):
    # Beat used to start only the sweep and the outbox: a company on the scaled set-up got no webhook
    # deliveries and no monthly report. Every job now has its task.
    from api_support import Receiver

    from kesu.api.models import WebhookSubscription
    from kesu.reports import delivery as report_delivery

    app = make_worker_app("redis://127.0.0.1:6379/11")
    every = {pace: app.tasks[jobs.pace_task(pace)] for pace in jobs.PACE_SETTINGS}
    with Receiver() as receiver:
        WebhookSubscription.objects.create(
            owner=org.director, url=receiver.url, events=["registered"], secret="s3cret-s3cret-s3cret"
        )
        c = major_complaint(org, minutes_ago=1)
        assert every[jobs.DELIVERY]() == ["deliver", "webhooks"]
        assert [json.loads(body)["complaint"]["number"] for _h, body in receiver.received] == [c.number]
    report_delivery._queued.clear()
    # Today is past the first working day: last month's report is due.
    assert every[jobs.SWEEP]() == ["sweep", "due_soon", "escalate", "digest", "monthly_report"]
    assert Outbox.objects.filter(kind="monthly_report", user=org.quality).count() == 1


def test_the_monthly_report_message_follows_the_admins_template(org, notify_env):
    from kesu.notify.models import MessageTemplate
    from kesu.reports import delivery as report_delivery

    MessageTemplate.objects.create(
        kind="monthly_report", subject="月报 {{ title }}", body="共 {{ total }} 宗。"
    )
    report_delivery._queued.clear()
    assert report_delivery.deliver_monthly(timezone.now()) == 1
    row = Outbox.objects.get(kind="monthly_report", user=org.quality)
    assert row.subject.startswith("月报 ") and row.body == "共 0 宗。"


def test_serve_says_truthfully_who_runs_the_periodic_jobs(settings):
    from kesu.ops.management.commands.serve import where_jobs_run

    settings.KESU_DELIVERY_SECONDS = 3.0
    here = where_jobs_run(True, 30.0)
    assert "in this process" in here and all(job.name in here for job in jobs.JOBS)
    settings.KESU_REDIS_URL = "redis://127.0.0.1:6379/11"
    assert "`kesu beat`" in where_jobs_run(False, 30.0) and "not here" in where_jobs_run(False, 30.0)
    settings.KESU_REDIS_URL = ""
    assert where_jobs_run(False, 30.0).startswith("WARNING: no periodic job runs here")
