"""Notification delivery: outbox messages delivered per second to a local receiver, embedded (the
sweeper thread's loop) and with 2 Celery workers; and the lag from a deadline passing to the
escalation message arriving (p50/p95), embedded and with beat + workers.

The receiver is an HTTP server in this process (the SMS HTTP provider's endpoint for the throughput
runs; a personal WeCom robot of the CS supervisor for the lag runs). The database work runs in child
processes: SQLite (a fresh file) and, when reachable, PostgreSQL (a scratch database, dropped
afterwards); the Celery runs need Redis (database 12, flushed before and after). Prints medians;
asserts nothing.

    .venv/bin/python bench/notify.py [--n 2000] [--rounds 3] [--deadlines 30] [--spread 20]
        [--sweep-seconds 10] [--pg postgres://postgres@127.0.0.1:5432/postgres]
        [--redis redis://127.0.0.1:6379/12]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# ---------------------------------------------------------------------------------------------
# child side (inside a process whose environment selects the database)


def _django():
    sys.path.insert(0, ROOT)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kesu.settings")
    import django

    django.setup()


def child_setup(receiver: str) -> None:
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command

    from kesu.notify.models import NotificationPreference
    from kesu.org.models import Building, Company, Office, Unit, User

    call_command("migrate", verbosity=0)
    company = Company.objects.create(name="bench")
    # A 24-hour window: the bench runs at any hour without night-duty rules getting in the way.
    office = Office.objects.create(
        company=company, code="B01", name="基准花园", work_start="00:00", work_end="23:59"
    )
    Unit.objects.create(building=Building.objects.create(office=office, name="1栋"), number="101")
    for role in ("receptionist", "supervisor", "cs_manager"):
        u = User.objects.create(username=role, role=role, password=make_password(None))
        u.offices.add(office)
    NotificationPreference.objects.create(
        user=User.objects.get(username="supervisor"),
        email=False,
        wecom_webhook=f"{receiver}/lag",
        kinds="overdue",
    )


def _sms_rows(n: int, tag: str):
    from django.utils import timezone

    from kesu.notify.models import Outbox

    now = timezone.now()
    Outbox.objects.bulk_create(
        [
            Outbox(
                created_at=now,
                kind="ack",
                channel="sms",
                address=f"138{i:08d}",
                subject="投诉 B01-000000-0000",
                body=f"您的投诉已受理，编号 B01-{tag}-{i:05d}，我们将于 2026-03-12 10:00 前给您答复。",
                payload={"number": f"B01-{tag}-{i:05d}"},
                delivery_key=f"bench:{tag}:{i}",
                next_attempt_at=now,
            )
            for i in range(n)
        ],
        batch_size=500,
    )


def _pending() -> int:
    from kesu.notify.models import Outbox

    return Outbox.objects.filter(state="pending").exclude(channel="webhook").count()


def child_throughput(mode: str, n: int, rounds: int) -> dict:
    from kesu.notify import delivery

    rates = []
    for r in range(rounds):
        _sms_rows(n, f"{mode}{r}-{secrets.token_hex(3)}")
        start = time.perf_counter()
        if mode == "embedded":
            while delivery.deliver_due().total:  # what the sweeper thread does every few seconds
                pass
        else:
            delivery._quiet_until = 0.0
            assert delivery.kick_now(), "could not reach Redis"
            while _pending():
                time.sleep(0.01)
        rates.append(n / (time.perf_counter() - start))
    return {"rates": rates}


def child_lag(mode: str, deadlines: int, spread: float, sweep_seconds: float) -> dict:
    """Major complaints whose 10-minute forwarding limit passes at staggered moments from now."""
    import datetime as dt

    from django.utils import timezone

    from kesu.complaints import services
    from kesu.org.models import Office, Unit, User

    office, unit = Office.objects.get(code="B01"), Unit.objects.get()
    reception = User.objects.get(username="receptionist")
    first = timezone.now() + dt.timedelta(seconds=5)
    due: dict[str, float] = {}
    for i in range(deadlines):
        due_at = first + dt.timedelta(seconds=spread * i / max(deadlines - 1, 1))
        c = services.register(
            reception,
            office=office,
            channel="phone",
            content="地下车库积水，车辆被淹。",
            complainant_name="李女士",
            phone="13800138000",
            unit=unit,
            received_at=due_at - dt.timedelta(minutes=10),
            is_major=True,
            severity="major",
        )
        assert abs((c.forward_due_at - due_at).total_seconds()) < 0.001
        due[c.number] = due_at.timestamp()
    if mode == "embedded":
        from kesu.notify.models import Outbox
        from kesu.ops.sweeper import Sweeper

        sweeper = Sweeper(interval=sweep_seconds)
        sweeper.start()
        deadline = time.time() + spread + 5 + 3 * sweep_seconds + 30
        while time.time() < deadline:
            wecom = Outbox.objects.filter(channel="wecom", kind="overdue_forward")
            if wecom.count() == deadlines and not wecom.filter(state="pending").exists():
                break
            time.sleep(0.2)
        sweeper.stop()
    return {"due": due}


def child_main(args: list[str]) -> None:
    _django()
    import logging

    logging.disable(logging.WARNING)
    what = args[0]
    if what == "setup":
        child_setup(args[1])
        result: dict = {}
    elif what == "throughput":
        result = child_throughput(args[1], int(args[2]), int(args[3]))
    elif what == "lag":
        result = child_lag(args[1], int(args[2]), float(args[3]), float(args[4]))
    else:
        raise SystemExit(f"unknown child task {what}")
    sys.stdout.write("RESULT " + json.dumps(result) + "\n")


# ---------------------------------------------------------------------------------------------
# parent side


class Receiver:
    def __init__(self) -> None:
        self.arrivals: dict[str, float] = {}  # complaint number -> first arrival (lag runs)
        self.count = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body in separate writes: no 40 ms stalls

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                now = time.time()
                with receiver.lock:
                    receiver.count += 1
                    if self.path.startswith("/lag"):
                        m = re.search(r"投诉超时 (B01-\d{6}-\d{4})", body.decode("utf-8", "replace"))
                        if m and m.group(1) not in receiver.arrivals:
                            receiver.arrivals[m.group(1)] = now
                data = b'{"errcode": 0, "code": 0}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def run_child(env: dict, *args: str) -> dict:
    out = subprocess.run(
        [sys.executable, os.path.abspath(__file__), "--child", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    for line in out.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    raise RuntimeError(f"child {args} failed:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}")


def start_kesu(env: dict, *args: str, log: str) -> subprocess.Popen:
    with open(log, "ab") as f:
        return subprocess.Popen(
            [sys.executable, "-m", "kesu.cli", *args],
            cwd=ROOT,
            env=env,
            stdout=f,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(p.pid, signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait(timeout=5)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def lags(receiver: Receiver, due: dict[str, float], wait: float) -> list[float]:
    """Lags for this run's deadlines (numbers repeat across backends: arrivals were cleared before)."""
    deadline = time.time() + wait
    while time.time() < deadline and not all(n in receiver.arrivals for n in due):
        time.sleep(0.1)
    return [receiver.arrivals[n] - t for n, t in due.items() if n in receiver.arrivals]


def redis_ok(url: str) -> bool:
    try:
        import redis

        client = redis.Redis.from_url(url, socket_connect_timeout=1)
        client.ping()
        assert client.connection_pool.connection_kwargs.get("db", 0) != 0
        return True
    except Exception:
        return False


def flush(url: str) -> None:
    import redis

    redis.Redis.from_url(url).flushdb()


def pg_database(base_url: str, name: str) -> str | None:
    try:
        import psycopg

        with psycopg.connect(base_url, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
    except Exception:
        return None
    return base_url.rsplit("/", 1)[0] + "/" + name


def drop_pg(base_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(base_url, autocommit=True, connect_timeout=3) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def bench_backend(label: str, db_url: str | None, opts, receiver: Receiver, home: str) -> list[str]:
    """db_url None: the embedded default (SQLite in KESU_HOME, WAL), as `kesu serve` runs it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KESU_")}
    if db_url:
        env["KESU_DATABASE_URL"] = db_url
    env.update(
        DJANGO_SETTINGS_MODULE="kesu.settings",
        KESU_HOME=home,
        KESU_SECRET_KEY=secrets.token_urlsafe(30),
        KESU_SMS_PROVIDER="http",
        KESU_SMS_HTTP_URL=f"{receiver.url}/sms",
        KESU_SWEEP_SECONDS=str(opts.sweep_seconds),
        KESU_DELIVERY_SECONDS="3",
        KESU_DUE_SOON_MINUTES="0",
        KESU_DIGEST_TIME="23:59",
        KESU_LOG_LEVEL="WARNING",
    )
    run_child(env, "setup", receiver.url)
    lines = []
    rates = run_child(env, "throughput", "embedded", str(opts.n), str(opts.rounds))["rates"]
    lines.append(f"{label:<11} embedded (sweeper loop)  {statistics.median(rates):7.0f} messages/s")
    receiver.arrivals.clear()
    due = run_child(env, "lag", "embedded", str(opts.deadlines), str(opts.spread), str(opts.sweep_seconds))[
        "due"
    ]
    lag = lags(receiver, due, 10)
    lines.append(_lag_line(label, "embedded", lag, len(due)))

    if redis_ok(opts.redis):
        flush(opts.redis)
        cenv = {**env, "KESU_REDIS_URL": opts.redis}
        procs = [
            start_kesu(
                cenv,
                "worker",
                "--concurrency",
                "1",
                "--hostname",
                f"bench{i}@%h",
                log=f"{home}/worker{i}.log",
            )
            for i in range(2)
        ]
        try:
            time.sleep(4)  # both workers up
            rates = run_child(cenv, "throughput", "celery", str(opts.n), str(opts.rounds))["rates"]
            lines.append(f"{label:<11} 2 Celery workers         {statistics.median(rates):7.0f} messages/s")
            procs.append(start_kesu(cenv, "beat", log=f"{home}/beat.log"))
            time.sleep(2)
            due = run_child(
                cenv, "lag", "celery", str(opts.deadlines), str(opts.spread), str(opts.sweep_seconds)
            )["due"]
            lag = lags(receiver, due, opts.spread + 5 + 3 * opts.sweep_seconds + 30)
            lines.append(_lag_line(label, "beat+workers", lag, len(due)))
        finally:
            stop(procs)
            flush(opts.redis)
    else:
        lines.append(f"{label:<11} (Redis not reachable at {opts.redis}: Celery runs skipped)")
    return lines


def _lag_line(label: str, mode: str, lag: list[float], expected: int) -> str:
    if not lag:
        return f"{label:<11} lag {mode}: no escalation arrived"
    return (
        f"{label:<11} deadline → escalation message, {mode:<12} p50 {percentile(lag, 0.5):5.1f} s  "
        f"p95 {percentile(lag, 0.95):5.1f} s  ({len(lag)}/{expected} arrived)"
    )


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child_main(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=2000, help="messages per throughput round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--deadlines", type=int, default=30, help="deadlines passing in the lag runs")
    parser.add_argument("--spread", type=float, default=20.0, help="seconds over which they pass")
    parser.add_argument(
        "--sweep-seconds", type=float, default=10.0, help="KESU_SWEEP_SECONDS for the lag runs"
    )
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/12")
    opts = parser.parse_args()

    receiver = Receiver()
    lines = [
        f"notification delivery: {opts.n} SMS per round, median of {opts.rounds}; lag over {opts.deadlines} "
        f"deadlines passing within {opts.spread:.0f} s, sweep every {opts.sweep_seconds:.0f} s, delivery every 3 s"
    ]
    with tempfile.TemporaryDirectory(prefix="kesu-bench-notify-") as tmp:
        os.makedirs(f"{tmp}/sqlite")
        lines += bench_backend("SQLite", None, opts, receiver, f"{tmp}/sqlite")
        pg = pg_database(opts.pg, "kesu_bench_notify")
        if pg:
            os.makedirs(f"{tmp}/pg")
            try:
                lines += bench_backend("PostgreSQL", pg, opts, receiver, f"{tmp}/pg")
            finally:
                drop_pg(opts.pg, "kesu_bench_notify")
        else:
            lines.append(f"PostgreSQL not reachable at {opts.pg}: skipped")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
