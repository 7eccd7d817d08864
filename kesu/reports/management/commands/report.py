"""`kesu report monthly …` (and `kesu report deliver`): the monthly complaint report from the shell."""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from kesu.org.models import User
from kesu.reports.delivery import deliver_monthly, system_user
from kesu.reports.monthly import ReportAccessError, compute, trend
from kesu.reports.period import Period, PeriodError
from kesu.reports.render import FORMATS, render


class Command(BaseCommand):
    help = "投诉统计报表：kesu report monthly --month 2026-02 [--to 2026-03] [--office Y01] --format pdf --out 月报.pdf"

    def add_arguments(self, parser) -> None:
        sub = parser.add_subparsers(dest="report", required=True, metavar="{monthly,deliver}")
        monthly = sub.add_parser(
            "monthly",
            help="客户投诉工作月报 (the monthly complaint report)",
            description="Write the monthly complaint report for a month (or months) and the company or one office.",
        )
        monthly.add_argument("--month", required=True, help="first month, YYYY-MM (e.g. 2026-02)")
        monthly.add_argument("--to", help="last month, YYYY-MM, for a report over several months")
        monthly.add_argument("--office", help="one office's code (e.g. Y01); default: the whole company")
        monthly.add_argument(
            "--format",
            choices=sorted(FORMATS),
            help="html, xlsx, docx, pdf or json (default: from --out's extension)",
        )
        monthly.add_argument("--out", help="file to write; '-' or none writes json/html to standard output")
        monthly.add_argument(
            "--user", help="make the report as this user sees it (default: the whole company)"
        )
        sub.add_parser(
            "deliver",
            help="queue last month's report to the quality department if due (what the sweeper does)",
        )

    def handle(self, *args, **opts) -> None:
        if opts["report"] == "deliver":
            n = deliver_monthly()
            self.stdout.write(f"queued {n} notification(s)")
            return
        out = opts.get("out")
        fmt = opts.get("format") or (Path(out).suffix.lstrip(".").lower() if out and out != "-" else "json")
        if fmt not in FORMATS:
            raise CommandError(f"unknown format {fmt!r}: use one of {', '.join(sorted(FORMATS))}")
        if fmt in ("xlsx", "docx", "pdf") and (not out or out == "-"):
            raise CommandError(f"--out FILE is needed for {fmt}")
        user = system_user()
        if opts.get("user"):
            user = User.objects.filter(username=opts["user"], is_active=True).first()
            if user is None:
                raise CommandError(f"no active user {opts['user']!r}")
        try:
            period = Period.parse(opts["month"], opts.get("to"))
            report = compute(user, period, opts.get("office"))
        except PeriodError as e:
            raise CommandError(f"--{e.field}: {e.message}") from None
        except ReportAccessError as e:
            raise CommandError(e.message) from None
        data = render(
            report, fmt, trend(user, period, opts.get("office")) if fmt in ("docx", "pdf", "html") else None
        )
        if not out or out == "-":
            sys.stdout.buffer.write(data)
            sys.stdout.flush()
            return
        Path(out).write_bytes(data)
        self.stdout.write(f"{report['title']} → {out} ({len(data):,} bytes)")
