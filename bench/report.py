"""Report bench: the monthly report over 1,000,000 complaints (24 months, 25 offices), beside the floor
of one hand-written SQL GROUP BY over the same rows.

Fills a scratch SQLite file and, when reachable, a scratch PostgreSQL database (kesu_reportbench,
created and dropped here) with complaints and their callbacks written by the bare driver (not through
the lifecycle: that would take hours), then times `kesu.reports.monthly.compute` for one company month
and one office month (the whole report: every aggregate, KPI, previous period and written summary),
and two floors: a GROUP BY office, nature, category over the month, and the same over the rows the
report reads (the month and the one before it, grouped by month too). Prints medians and ratios;
asserts nothing. `--keep DIR` keeps the filled databases (filling takes about 10 minutes) and reuses
them on the next run with the same --n.

    .venv/bin/python bench/report.py [--n 1000000] [--rounds 5] [--pg postgres://postgres@127.0.0.1:5432/postgres]
                                     [--only sqlite|postgresql] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MONTHS = 24
OFFICES = 25
SCRATCH_DB = "kesu_reportbench"


def _fill(n: int, seed: int = 5) -> dict:
    """Write n complaints (and their callbacks) with the driver; returns facts about what was written."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    from django.conf import settings
    from django.contrib.auth.hashers import make_password
    from django.db import connection

    from kesu.complaints.models import Callback, Category, Complaint
    from kesu.complaints.search import index_text
    from kesu.demo.corpus import ASSIST_TEXTS, CATEGORY_TEXTS, fill
    from kesu.demo.corpus import OFFICES as NAMES
    from kesu.org.models import Company, Office, User

    rng = random.Random(seed)
    tz = ZoneInfo(settings.TIME_ZONE)
    company = Company.objects.create(name="示范物业")
    offices = [
        Office.objects.create(company=company, code=code, name=name, households=600 + rng.randrange(2400))
        for code, name in NAMES[:OFFICES]
    ]
    user = User.objects.create(username="bench", role="quality", password=make_password(None))
    cats = {c.code: c.pk for c in Category.objects.all()}

    # Texts: every template filled a few ways, cut into words once (jieba is the slow part).
    texts: dict[str, list[tuple[str, str]]] = {}
    for code, templates in [*CATEGORY_TEXTS.items(), ("_assist", ASSIST_TEXTS)]:
        texts[code] = []
        for t in templates:
            for _ in range(3):
                content = fill(
                    t, rng, f"{rng.randrange(1, 30)}栋", f"{rng.randrange(1, 33)}0{rng.randrange(1, 5)}"
                )
                texts[code].append((content, index_text(content)))

    end = dt.datetime(2026, 3, 1, tzinfo=tz)
    start = dt.datetime(2024, 3, 1, tzinfo=tz)
    span = (end - start).total_seconds()
    weights = [o.households for o in offices]
    fields = [f for f in Complaint._meta.concrete_fields]
    cols = [f.column for f in fields]
    cb_cols = [f.column for f in Callback._meta.concrete_fields]
    stamps = sorted(rng.random() * span for _ in range(n))
    vendor = connection.vendor
    connection.ensure_connection()
    raw = connection.connection
    table, cb_table = Complaint._meta.db_table, Callback._meta.db_table

    def value(v):
        if vendor == "sqlite" and isinstance(v, dt.datetime):
            return v.astimezone(dt.UTC).replace(tzinfo=None).isoformat(" ")
        return v

    def rows(lo: int, hi: int):
        out, cbs = [], []
        for i in range(lo, hi):
            pk = i + 1
            received = start + dt.timedelta(seconds=stamps[i])
            office = rng.choices(offices, weights)[0]
            r = rng.random()
            nature = "valid" if r < 0.55 else "assist" if r < 0.8 else "invalid" if r < 0.95 else ""
            if nature == "valid":
                code = rng.choice(list(CATEGORY_TEXTS))
                content, words = rng.choice(texts[code])
            else:
                code = rng.choice(["environment", "construction", "security", "traffic"]) if nature else None
                content, words = rng.choice(texts["_assist"])
            major = rng.random() < 0.005
            forwarded = received + dt.timedelta(minutes=rng.uniform(2, 40))
            resolved = received + dt.timedelta(hours=rng.expovariate(1 / 20))
            recent = (end - received).days < 10
            s = rng.random()
            if recent and s < 0.5:
                status = rng.choice(["received", "dispatched", "in_progress", "resolved"])
            else:
                status = (
                    "closed"
                    if s < 0.9
                    else "declined"
                    if s < 0.93
                    else "withdrawn"
                    if s < 0.95
                    else "merged"
                    if s < 0.96
                    else "resolved"
                )
            done = status in ("closed", "resolved")
            called = status == "closed" or (status == "resolved" and rng.random() < 0.5)
            called_at = resolved + dt.timedelta(hours=rng.uniform(0.5, 30)) if called else None
            satisfaction = (
                rng.choices(["satisfied", "basically_satisfied", "dissatisfied"], [80, 15, 5])[0]
                if called
                else ""
            )
            row = {
                "id": pk,
                "number": f"{office.code}-B{pk:08d}",
                "office_id": office.pk,
                "status": status,
                "version": 1,
                "channel": rng.choice(["phone", "phone", "visit", "wechat", "online"]),
                "received_at": received,
                "received_by_id": user.pk,
                "owner_id": user.pk,
                "received_by_company": rng.random() < 0.02,
                "complainant_name": "王建国",
                "complainant_phone": "",
                "address": "",
                "content": content,
                "search_text": words,
                "complained_party": "",
                "on_spot_answer": "",
                "committed_answer_at": received + dt.timedelta(hours=48),
                "answered_at": resolved if done else None,
                "nature": nature,
                "nature_subtype": "",
                "is_major": major,
                "major_at": received if major else None,
                "severity": "major" if major else rng.choice(["general", "general", "minor"]),
                "category_id": cats[code] if code else None,
                "assessed_at": received if nature else None,
                "assessed_by_id": user.pk if nature else None,
                "tier": 0,
                "forwarded_at": forwarded if status not in ("received", "declined") else None,
                "resolved_at": resolved if done else None,
                "resolution": "",
                "called_back_at": called_at,
                "satisfaction": satisfaction if called and status == "closed" else "",
                "reopen_count": 1 if rng.random() < 0.03 else 0,
                "closed_at": (called_at or resolved) if status != "resolved" and not recent else None,
                "close_outcome": "resolved" if status == "closed" else "",
                "lesson_cause": "",
                "lesson_learned": "",
                "lesson_prevention": "",
                "decline_reason": "other" if status == "declined" else "",
                "end_note": "",
                "repeat_of_id": rng.randrange(1, pk) if pk > 1 and rng.random() < 0.01 else None,
                "merged_into_id": rng.randrange(1, pk) if pk > 1 and status == "merged" else None,
                "forward_due_at": received + dt.timedelta(minutes=20),
                "resolve_due_at": received + dt.timedelta(hours=48),
                "callback_due_at": resolved + dt.timedelta(hours=24) if done else None,
                "onsite_callback_required": major,
                "created_at": received,
                "updated_at": received,
            }
            out.append([value(row[f.attname] if f.attname in row else f.get_default()) for f in fields])
            if called:
                cbs.append(
                    [
                        value(v)
                        for v in (
                            None,
                            pk,
                            called_at,
                            user.pk,
                            "phone",
                            satisfaction,
                            "满意" if satisfaction != "dissatisfied" else "不满意",
                            True,
                            resolved + dt.timedelta(hours=24),
                        )
                    ]
                )
        return out, cbs

    assert cb_cols == [
        "id",
        "complaint_id",
        "at",
        "by_id",
        "method",
        "satisfaction",
        "words",
        "confirmed",
        "due_at",
    ], cb_cols
    callbacks = 0
    started = time.perf_counter()
    chunk = 50_000
    for lo in range(0, n, chunk):
        out, cbs = rows(lo, min(n, lo + chunk))
        callbacks += len(cbs)
        cur = raw.cursor()
        if vendor == "postgresql":
            with cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as cp:
                for r in out:
                    cp.write_row(r)
            with cur.copy(f"COPY {cb_table} ({', '.join(cb_cols[1:])}) FROM STDIN") as cp:
                for r in cbs:
                    cp.write_row(r[1:])
        else:
            ph = ", ".join("?" * len(cols))
            cur.executemany(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({ph})", out)
            ph = ", ".join("?" * (len(cb_cols) - 1))
            cur.executemany(
                f"INSERT INTO {cb_table} ({', '.join(cb_cols[1:])}) VALUES ({ph})", [r[1:] for r in cbs]
            )
        raw.commit()
        cur.close()
    cur = raw.cursor()
    if vendor == "postgresql":
        raw.autocommit = True
        cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {n})")
        cur.execute(f"VACUUM ANALYZE {table}")
        cur.execute(f"VACUUM ANALYZE {cb_table}")
        raw.autocommit = False
    else:
        cur.execute("ANALYZE")
        raw.commit()
    cur.close()
    return {"complaints": n, "callbacks": callbacks, "fill_s": time.perf_counter() - started}


def run_backend(n: int, rounds: int) -> dict:
    """Inside a child process whose environment selects the database."""
    sys.path.insert(0, ROOT)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kesu.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from kesu.complaints.models import Complaint
    from kesu.reports.delivery import system_user
    from kesu.reports.monthly import compute
    from kesu.reports.period import Period

    call_command("migrate", verbosity=0)
    have = Complaint.objects.count()
    if have == n and os.environ.get("KESU_BENCH_REUSE"):
        facts = {"complaints": n, "callbacks": -1, "fill_s": 0.0}
    else:
        if have:
            raise RuntimeError(f"the scratch database holds {have:,} complaints, not {n:,}: remove it")
        facts = _fill(n)
    user = system_user()
    period = Period.parse("2026-02")
    office = "Y01"
    table = Complaint._meta.db_table
    ph = "%s"
    floor_sql = (
        f"SELECT office_id, nature, category_id, COUNT(*) FROM {table} "
        f"WHERE received_at >= {ph} AND received_at < {ph} GROUP BY office_id, nature, category_id"
    )
    office_id = connection.cursor()
    office_id.execute("SELECT id FROM org_office WHERE code = %s", [office])
    oid = office_id.fetchone()[0]
    office_floor_sql = floor_sql.replace("WHERE ", f"WHERE office_id = {oid} AND ")
    # The same over the rows the report reads: the month and the one before it (every figure is
    # compared with the previous period), grouped by month as well.
    floor2_sql = (
        f"SELECT received_at >= {ph}, office_id, nature, category_id, COUNT(*) FROM {table} "
        f"WHERE received_at >= {ph} AND received_at < {ph} GROUP BY 1, 2, 3, 4"
    )
    office_floor2_sql = floor2_sql.replace("WHERE ", f"WHERE office_id = {oid} AND ")

    def floor(sql: str, two_months: bool = False) -> float:
        bounds = (
            (period.start, period.previous().start, period.end) if two_months else (period.start, period.end)
        )
        with connection.cursor() as cur:
            t = time.perf_counter()
            cur.execute(sql, [connection.ops.adapt_datetimefield_value(v) for v in bounds])
            cur.fetchall()
            return time.perf_counter() - t

    def report(office_code: str | None) -> tuple[float, int]:
        t = time.perf_counter()
        r = compute(user, period, office_code)
        return time.perf_counter() - t, r["total"]

    compute(user, period)  # warm: jieba dictionary, policy caches, the database's buffers
    results = {}
    for name, office_code, sql, sql2 in (
        ("company month", None, floor_sql, floor2_sql),
        ("office month", office, office_floor_sql, office_floor2_sql),
    ):
        reports, floors, floors2, total = [], [], [], 0
        for _ in range(rounds):
            elapsed, total = report(office_code)
            reports.append(elapsed)
            floors.append(floor(sql))
            floors2.append(floor(sql2, two_months=True))
        results[name] = {
            "report_s": statistics.median(reports),
            "floor_s": statistics.median(floors),
            "floor2_s": statistics.median(floors2),
            "complaints_in_month": total,
        }
    # Where the company month's time goes: each query, and the rest (Python).
    spent: list[tuple[float, str]] = []

    def timed(execute, sql, params, many, context):
        t = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            spent.append((time.perf_counter() - t, " ".join(sql.split())[:90]))

    with connection.execute_wrapper(timed):
        total_s, _n = report(None)
    queries = sorted(spent, reverse=True)
    results["company month"]["queries"] = len(queries)
    results["company month"]["sql_s"] = sum(t for t, _s in queries)
    results["company month"]["slowest"] = [(round(t * 1000, 1), q) for t, q in queries[:5]]
    results["company month"]["profiled_s"] = total_s
    return {"vendor": connection.vendor, "rounds": rounds, **facts, "results": results}


def child(env_extra: dict, n: int, rounds: int, keep: str | None = None) -> dict:
    env = dict(os.environ, **env_extra)
    if keep:
        env["KESU_BENCH_REUSE"] = "1"
    out = subprocess.run(
        [sys.executable, __file__, "--child", "--n", str(n), "--rounds", str(rounds)],
        env=env,
        capture_output=True,
        text=True,
    )
    if out.returncode:
        raise RuntimeError(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=1_000_000, help="complaints to write (default 1,000,000)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--pg", default="postgres://postgres@127.0.0.1:5432/postgres", help="server for the scratch db"
    )
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    parser.add_argument(
        "--keep",
        metavar="DIR",
        help="keep the filled databases (SQLite in DIR, PostgreSQL's scratch db) and reuse them next time",
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_backend(args.n, args.rounds)))
        return

    results = []
    if args.only in (None, "sqlite"):
        if args.keep:
            os.makedirs(args.keep, exist_ok=True)
            results.append(child({"KESU_HOME": os.path.abspath(args.keep)}, args.n, args.rounds, args.keep))
        else:
            with tempfile.TemporaryDirectory() as home:
                results.append(child({"KESU_HOME": home}, args.n, args.rounds))
    if args.only in (None, "postgresql"):
        try:
            import psycopg

            with psycopg.connect(args.pg, autocommit=True, connect_timeout=3) as admin:
                exists = admin.execute(
                    "SELECT 1 FROM pg_database WHERE datname = %s", [SCRATCH_DB]
                ).fetchone()
                if not (args.keep and exists):
                    admin.execute(f"DROP DATABASE IF EXISTS {SCRATCH_DB}")
                    admin.execute(f"CREATE DATABASE {SCRATCH_DB}")
            base = args.pg.rsplit("/", 1)[0]
            try:
                with tempfile.TemporaryDirectory() as home:
                    results.append(
                        child(
                            {"KESU_HOME": home, "KESU_DATABASE_URL": f"{base}/{SCRATCH_DB}"},
                            args.n,
                            args.rounds,
                            args.keep,
                        )
                    )
            finally:
                if not args.keep:
                    with psycopg.connect(args.pg, autocommit=True) as admin:
                        admin.execute(f"DROP DATABASE IF EXISTS {SCRATCH_DB}")
        except Exception as e:  # PostgreSQL is optional here
            print(f"(PostgreSQL skipped: {e.__class__.__name__}: {e})")

    print(
        f"report bench: {args.n:,} complaints over {MONTHS} months, {OFFICES} offices; median of {args.rounds} rounds"
    )
    print("floor: one GROUP BY office, nature, category over the month; floor2: the same over the rows the")
    print("report reads: the month and the month before it (every figure has its previous-period value),")
    print("grouped by month too")
    print(
        f"{'database':<12}{'scope':<15}{'in month':>10}{'report ms':>12}{'floor ms':>11}{'ratio':>8}{'floor2 ms':>11}{'ratio':>8}"
    )
    for r in results:
        for scope, x in r["results"].items():
            ratio = x["report_s"] / x["floor_s"] if x["floor_s"] else float("nan")
            print(
                f"{r['vendor']:<12}{scope:<15}{x['complaints_in_month']:>10,}"
                f"{x['report_s'] * 1000:>12.1f}{x['floor_s'] * 1000:>11.1f}{ratio:>7.1f}x"
                f"{x['floor2_s'] * 1000:>11.1f}{x['report_s'] / x['floor2_s']:>7.1f}x"
            )
        x = r["results"]["company month"]
        print(
            f"{'':<12}company month: {x['queries']} queries, {x['sql_s'] * 1000:.0f} ms in SQL of "
            f"{x['profiled_s'] * 1000:.0f} ms; the slowest:"
        )
        for ms, q in x["slowest"][:3]:
            print(f"{'':<14}{ms:>8.1f} ms  {q}")
        print(
            f"{'':<12}(filled {r['complaints']:,} complaints and {r['callbacks']:,} callbacks in {r['fill_s']:.0f} s)"
            if r["callbacks"] >= 0
            else f"{'':<12}(reused the kept database of {r['complaints']:,} complaints)"
        )


if __name__ == "__main__":
    main()
