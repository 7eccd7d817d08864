"""API bench: complaints registered per second through `POST /api/v1/complaints/` on a real server
(`kesu serve`: gunicorn, 2 workers), and p50/p95 latency of `GET /api/v1/complaints/?status=...` with
100,000 complaints in the database — on SQLite (a fresh file) and, when reachable, PostgreSQL (a scratch
database `kesu_apibench`, dropped afterwards). Printed beside the intake bench's floor (bench/intake.py:
the lifecycle called in-process, and plain driver INSERTs). Prints medians; asserts nothing.

    .venv/bin/python bench/api.py [--posts 400] [--clients 8] [--rows 100000] [--gets 300] [--rounds 3]
                                  [--pg postgres://postgres@127.0.0.1:5432/postgres] [--no-intake]
"""

from __future__ import annotations

import argparse
import http.client
import importlib.util
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRATCH = ("kesu_apibench", "kesu_apibench_intake")  # PostgreSQL databases made and dropped here
STATUSES = ["received", "in_progress", "resolved", "closed"]
# Share of each status among the bulk rows: most complaints of a year are closed.
MIX = [
    ("received", 10),
    ("dispatched", 10),
    ("in_progress", 10),
    ("resolved", 10),
    ("rectifying", 2),
    ("closed", 50),
    ("declined", 3),
    ("withdrawn", 3),
    ("merged", 2),
]


# --- child steps (run with the environment that selects the database) ---------------------------


def _django():
    sys.path.insert(0, ROOT)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kesu.settings")
    import django

    django.setup()


def setup_company() -> dict:
    _django()
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command

    from kesu.api.keys import create_key
    from kesu.org.models import Building, Company, Office, Unit, User

    call_command("migrate", verbosity=0)
    company = Company.objects.create(name="bench")
    office = Office.objects.create(company=company, code="B01", name="bench")
    building = Building.objects.create(office=office, name="1栋")
    units = [Unit.objects.create(building=building, number=f"{100 + i}").code for i in range(20)]
    user = User.objects.create(username="bench", role="supervisor", password=make_password(None))
    user.offices.add(office)
    _key, raw = create_key(user, offices=["B01"])
    return {"key": raw, "units": units}


def bulk_fill(rows: int) -> dict:
    """Insert `rows` complaints with the bare driver (not the lifecycle), statuses and times varied."""
    _django()
    import datetime as dt
    import random

    from django.db import connection, transaction
    from django.utils import timezone

    from kesu.complaints.models import Complaint

    template = Complaint.objects.order_by("-id").values().first()
    cols = [k for k in template if k != "id"]
    table = Complaint._meta.db_table
    mark = "%s" if connection.vendor == "postgresql" else "?"
    sql = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join([mark] * len(cols))})"
    rng = random.Random(42)
    statuses = [s for s, weight in MIX for _ in range(weight)]
    now = timezone.now()
    start = time.perf_counter()
    with transaction.atomic():
        cur = connection.connection.cursor()  # the bare driver's cursor, inside Django's transaction
        batch = []
        for i in range(rows):
            received = now - dt.timedelta(seconds=rng.randrange(365 * 24 * 3600))
            row = dict(
                template,
                number=f"BLK-{i:07d}",
                status=rng.choice(statuses),
                received_at=received,
                created_at=received,
                updated_at=received,
            )
            values = [row[c] for c in cols]
            if connection.vendor == "sqlite":
                values = [v.isoformat(" ") if isinstance(v, dt.datetime) else v for v in values]
            batch.append(values)
            if len(batch) == 5000:
                cur.executemany(sql, batch)
                batch = []
        if batch:
            cur.executemany(sql, batch)
        cur.close()
    with connection.cursor() as c:
        c.execute("ANALYZE")
    return {"rows": rows, "seconds": time.perf_counter() - start, "total": Complaint.objects.count()}


def _say(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


# --- the server and the clients -----------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run_child(env: dict, *args: str) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, *args], env=env, capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        raise RuntimeError(f"{args[0]} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


class Server:
    def __init__(self, env: dict):
        self.port = _free_port()
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "kesu.cli",
                "serve",
                "--no-sweeper",
                "--workers",
                "2",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        self.log.seek(0)
        raise RuntimeError("server did not start:\n" + self.log.read().decode()[-3000:])

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def post_rate(port: int, key: str, units: list[str], n: int, clients: int) -> float:
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    counter = iter(range(n))
    lock = threading.Lock()
    failures: list[str] = []

    def work() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                break
            body = {
                "office": "B01",
                "channel": "phone",
                "unit": units[i % len(units)],
                "complainant_name": "王先生",
                "phone": "13800138000",
                "content": f"3栋2号电梯经常停运，第{i}次反映，昨晚困了一位老人。",
                "severity": "general",
                "category": "facilities",
            }
            conn.request("POST", "/api/v1/complaints/", json.dumps(body), headers)
            response = conn.getresponse()
            response.read()
            if response.status != 201:
                failures.append(str(response.status))

    threads = [threading.Thread(target=work) for _ in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    if failures:
        raise RuntimeError(f"{len(failures)} POSTs failed, e.g. {failures[:5]}")
    return n / elapsed


def get_latencies(port: int, key: str, gets: int) -> tuple[float, float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Authorization": f"Bearer {key}"}
    times = []
    for i in range(gets + 10):
        status = STATUSES[i % len(STATUSES)]
        start = time.perf_counter()
        conn.request("GET", f"/api/v1/complaints/?status={status}", headers=headers)
        response = conn.getresponse()
        body = response.read()
        elapsed = time.perf_counter() - start
        if response.status != 200 or len(json.loads(body)["results"]) != 50:
            raise RuntimeError(f"GET {status}: {response.status} {body[:200]!r}")
        if i >= 10:  # warm-up: connections, caches
            times.append(elapsed * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1]


def bench_backend(env: dict, args) -> dict:
    env = dict(
        env,
        PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""),
        KESU_API_RATE_PER_KEY="1000000/s",
        KESU_API_RATE_PER_IP="1000000/s",
        KESU_LOG_LEVEL="WARNING",
    )
    vendor = "postgresql" if "KESU_DATABASE_URL" in env else "sqlite"
    _say(f"{vendor}: setting up")
    company = _run_child(env, "--child", "setup")
    server = Server(env)
    _say(f"{vendor}: server up on port {server.port}; POSTing")
    try:
        rates = [
            post_rate(server.port, company["key"], company["units"], args.posts, args.clients)
            for _ in range(args.rounds)
        ]
        _say(f"{vendor}: bulk-inserting {args.rows:,} complaints")
        filled = _run_child(env, "--child", "fill", "--rows", str(args.rows))
        _say(f"{vendor}: {filled['seconds']:.1f} s; GETting")
        p50s, p95s = zip(
            *(get_latencies(server.port, company["key"], args.gets) for _ in range(args.rounds)), strict=True
        )
    finally:
        server.stop()
    result = {
        "post_per_s": statistics.median(rates),
        "get_p50_ms": statistics.median(p50s),
        "get_p95_ms": statistics.median(p95s),
        "rows": filled["total"],
        "fill_s": filled["seconds"],
    }
    if not args.no_intake:
        _say(f"{vendor}: intake bench (the floor)")
        spec = importlib.util.spec_from_file_location(
            "intake_bench", os.path.join(ROOT, "bench", "intake.py")
        )
        intake = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(intake)
        # The floor runs on its own fresh database (its company would clash with this one).
        with tempfile.TemporaryDirectory() as home:
            intake_env = dict(env, KESU_HOME=home)
            if "KESU_DATABASE_URL" in env:
                intake_env["KESU_DATABASE_URL"] = env["KESU_DATABASE_URL"] + "_intake"
            floor = intake.child(intake_env, args.intake_n, args.rounds)
        result.update(lifecycle_per_s=floor["lifecycle_per_s"], floor_per_s=floor["floor_per_s"])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--posts", type=int, default=400, help="complaints POSTed per round")
    parser.add_argument("--clients", type=int, default=8, help="concurrent HTTP clients for the POSTs")
    parser.add_argument("--rows", type=int, default=100_000, help="complaints bulk-inserted before the GETs")
    parser.add_argument("--gets", type=int, default=300, help="GET requests per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--intake-n", type=int, default=200, help="complaints per round of the intake floor")
    parser.add_argument("--no-intake", action="store_true", help="skip the intake bench beside it")
    parser.add_argument(
        "--pg", default="postgres://postgres@127.0.0.1:5432/postgres", help="server to make a scratch db on"
    )
    parser.add_argument("--child", choices=["setup", "fill"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "setup":
        print(json.dumps(setup_company()))
        return
    if args.child == "fill":
        print(json.dumps(bulk_fill(args.rows)))
        return

    results = []
    with tempfile.TemporaryDirectory() as home:
        results.append(("sqlite", bench_backend(dict(os.environ, KESU_HOME=home), args)))
    try:
        import psycopg

        with psycopg.connect(args.pg, autocommit=True, connect_timeout=3) as admin:
            for db in SCRATCH:
                admin.execute(f"DROP DATABASE IF EXISTS {db}")
                admin.execute(f"CREATE DATABASE {db}")
        reachable = True
    except Exception as e:  # PostgreSQL is optional here
        print(f"(PostgreSQL skipped: {e.__class__.__name__}: {e})")
        reachable = False
    if reachable:
        base = args.pg.rsplit("/", 1)[0]
        try:
            with tempfile.TemporaryDirectory() as home:
                env = dict(os.environ, KESU_HOME=home, KESU_DATABASE_URL=f"{base}/kesu_apibench")
                results.append(("postgresql", bench_backend(env, args)))
        finally:
            with psycopg.connect(args.pg, autocommit=True) as admin:
                for db in SCRATCH:
                    admin.execute(f"DROP DATABASE IF EXISTS {db} (FORCE)")

    print(
        f"api bench: gunicorn 2 workers; POST {args.posts} complaints per round with {args.clients} clients; "
        f"GET ?status=… (50 per page) {args.gets} times per round over {args.rows:,} bulk rows; "
        f"median of {args.rounds} rounds"
    )
    head = f"{'database':<12}{'POST /s':>10}{'GET p50 ms':>12}{'GET p95 ms':>12}"
    if not args.no_intake:
        head += f"{'| intake: lifecycle /s':>24}{'driver INSERT /s':>18}"
    print(head)
    for vendor, r in results:
        line = f"{vendor:<12}{r['post_per_s']:>10.1f}{r['get_p50_ms']:>12.1f}{r['get_p95_ms']:>12.1f}"
        if "floor_per_s" in r:
            line += f"{r['lifecycle_per_s']:>24.1f}{r['floor_per_s']:>18.1f}"
        print(line)


if __name__ == "__main__":
    main()
