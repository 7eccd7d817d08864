"""Intake throughput: register + assess N complaints through the lifecycle functions, beside the
floor of plain driver INSERTs of the same complaint rows (one commit per row, as intake does).

Runs on SQLite (a fresh file) and, when reachable, on PostgreSQL (a scratch database that is
dropped afterwards). Prints medians of several rounds; asserts nothing.

    .venv/bin/python bench/intake.py [--n 300] [--rounds 3] [--pg postgres://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_backend(n: int, rounds: int) -> dict:
    """Inside a child process whose environment selects the database."""
    sys.path.insert(0, ROOT)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kesu.settings")
    import django

    django.setup()
    import datetime as dt

    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from kesu.complaints import services
    from kesu.complaints.models import Complaint
    from kesu.org.models import Building, Company, Office, Unit, User

    call_command("migrate", verbosity=0)
    company = Company.objects.create(name="bench")
    office = Office.objects.create(company=company, code="B01", name="bench")
    unit = Unit.objects.create(building=Building.objects.create(office=office, name="1栋"), number="101")
    user = User.objects.create(username="bench", role="supervisor", password=make_password(None))
    user.offices.add(office)

    lifecycle_rates, floor_rates = [], []
    serial = 0
    for _ in range(rounds):
        start = time.perf_counter()
        for i in range(n):
            c = services.register(
                user,
                office=office,
                channel="phone",
                content=f"3栋2号电梯经常停运，第{i}次反映。",
                complainant_name="王先生",
                phone="13800138000",
                unit=unit,
            )
            services.assess(c, user, nature="valid", severity="general", category="facilities")
        lifecycle_rates.append(n / (time.perf_counter() - start))

        # The floor: the same row written by the bare driver, one transaction per row.
        template = Complaint.objects.order_by("-id").values().first()
        cols = [k for k in template if k != "id"]
        table = Complaint._meta.db_table
        ph = (
            ", ".join(["%s"] * len(cols))
            if connection.vendor == "postgresql"
            else ", ".join(["?"] * len(cols))
        )
        sql = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({ph})"
        connection.ensure_connection()
        raw = connection.connection
        now = timezone.now()
        start = time.perf_counter()
        for _i in range(n):
            serial += 1
            row = dict(template, number=f"FLOOR-{serial:07d}", created_at=now, updated_at=now)
            values = [row[c] for c in cols]
            if connection.vendor == "sqlite":
                values = [v.isoformat(" ") if isinstance(v, dt.datetime) else v for v in values]
            with transaction.atomic():
                cur = raw.cursor()
                cur.execute(sql, values)
                cur.close()
        floor_rates.append(n / (time.perf_counter() - start))
    return {
        "vendor": connection.vendor,
        "lifecycle_per_s": statistics.median(lifecycle_rates),
        "floor_per_s": statistics.median(floor_rates),
        "rounds": rounds,
        "n": n,
    }


def child(env_extra: dict, n: int, rounds: int) -> dict:
    env = dict(os.environ, **env_extra)
    out = subprocess.run(
        [sys.executable, __file__, "--child", "--n", str(n), "--rounds", str(rounds)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=300, help="complaints per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--pg", default="postgres://postgres@127.0.0.1:5432/postgres", help="server to make a scratch db on"
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_backend(args.n, args.rounds)))
        return

    results = []
    with tempfile.TemporaryDirectory() as home:
        results.append(child({"KESU_HOME": home}, args.n, args.rounds))

    try:
        import psycopg

        with psycopg.connect(args.pg, autocommit=True, connect_timeout=3) as admin:
            admin.execute("DROP DATABASE IF EXISTS kesu_bench")
            admin.execute("CREATE DATABASE kesu_bench")
        base = args.pg.rsplit("/", 1)[0]
        with tempfile.TemporaryDirectory() as home:
            results.append(
                child({"KESU_HOME": home, "KESU_DATABASE_URL": f"{base}/kesu_bench"}, args.n, args.rounds)
            )
        with psycopg.connect(args.pg, autocommit=True) as admin:
            admin.execute("DROP DATABASE IF EXISTS kesu_bench")
    except Exception as e:  # PostgreSQL is optional here
        print(f"(PostgreSQL skipped: {e.__class__.__name__}: {e})")

    print(f"intake bench: {args.n} complaints per round, median of {args.rounds} rounds")
    print(f"{'database':<12}{'register+assess /s':>20}{'driver INSERT /s':>20}{'ratio':>10}")
    for r in results:
        ratio = r["floor_per_s"] / r["lifecycle_per_s"]
        print(f"{r['vendor']:<12}{r['lifecycle_per_s']:>20.1f}{r['floor_per_s']:>20.1f}{ratio:>9.1f}x")


if __name__ == "__main__":
    main()
