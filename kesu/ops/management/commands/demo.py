"""`kesu demo`: create the database, load the demo company once, print the logins, serve."""

from __future__ import annotations

import time
import unicodedata
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, connections
from django.utils import translation

from kesu.complaints.models import Complaint
from kesu.demo.generate import DEMO_LOGINS, DEMO_PASSWORD, DemoError, generate
from kesu.org.models import User


class Command(BaseCommand):
    help = (
        "演示：建库，导入示范物业公司（25个管理处、员工、住户、两个月的投诉），打印登录账号并启动服务。"
        "再次运行时保留已有数据。 "
        "Demo: create the database, load a demo property-management company (25 offices, staff, "
        "residents, two months of complaints) once, print the logins and serve it. Running it again "
        "keeps the data."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--no-serve", action="store_true", help="load the data and print the logins, but do not serve"
        )
        parser.add_argument("--host", default="127.0.0.1", help="address to serve on (default 127.0.0.1)")
        parser.add_argument("--port", type=int, default=8000, help="port to serve on (default 8000)")
        parser.add_argument(
            "--seed", type=int, default=2026, help="random seed: the same seed gives the same company"
        )
        parser.add_argument(
            "--reset", action="store_true", help="wipe the database and start again (deletes ALL data in it)"
        )

    def handle(self, *args, **options):
        from kesu.ops.baseurl import follow_served_address

        started = time.perf_counter()
        # Before the demo's messages are written: their links lead to where the demo will be served.
        links = follow_served_address(options["host"], options["port"])
        if options["reset"]:
            self._wipe()
        self.stdout.write("数据库 database: 迁移 migrating…")
        call_command("migrate", interactive=False, verbosity=0)
        if options["reset"] and connection.vendor != "sqlite":
            self._reload_defaults()

        existing = Complaint.objects.count()
        if existing:
            self.stdout.write(
                f"数据库已有 {existing} 条投诉，保留现有数据。The database already has data: kept as it is."
            )
        else:
            self.stdout.write(
                "导入演示数据 loading the demo company (双核机器上约一分钟 about a minute on two cores)…"
            )
            try:
                summary = generate(seed=options["seed"], progress=self._progress)
            except DemoError as e:
                raise CommandError(f"{e}\n如需重新开始请加 --reset。Use --reset to start again.") from e
            self.stdout.write(self.style.SUCCESS("演示数据已导入 demo data loaded:"))
            for line in summary.lines():
                self.stdout.write("  " + line)

        self._print_logins(options["host"], options["port"])
        self.stdout.write(links)
        ready = time.perf_counter() - started
        self.stdout.write(f"准备用时 ready in: {ready:.0f} 秒 s")
        self.stdout.write("")
        if not options["no_serve"]:
            call_command("serve", host=options["host"], port=options["port"])

    def _progress(self, line: str) -> None:
        self.stdout.write("  " + line)
        self.stdout.flush()  # seen as it happens, also through a pipe

    def _wipe(self) -> None:
        db = settings.DATABASES["default"]
        if db["ENGINE"] == "django.db.backends.sqlite3":
            name = str(db["NAME"])
            if name == ":memory:" or name.startswith("file:"):
                raise CommandError("--reset needs an SQLite database file")
            connections.close_all()
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(name + suffix).unlink(missing_ok=True)
            self.stdout.write(f"已删除数据库文件 deleted the database file: {name}")
        else:
            call_command("migrate", interactive=False, verbosity=0)
            call_command("flush", interactive=False, verbosity=0)
            self.stdout.write("已清空数据库 emptied the database")

    def _reload_defaults(self) -> None:
        """`flush` also empties the rows data migrations created (the default categories and time
        limits); run those migrations' data functions again. They only use `apps.get_model`, so the
        current models stand in for the historical ones."""
        from django.apps import apps
        from django.db.migrations.loader import MigrationLoader
        from django.db.migrations.operations.special import RunPython

        loader = MigrationLoader(connection)
        seen: set[tuple[str, str]] = set()
        with connection.schema_editor() as editor:
            for leaf in sorted(loader.graph.leaf_nodes()):
                for key in loader.graph.forwards_plan(leaf):
                    if key in seen:
                        continue
                    seen.add(key)
                    for op in loader.graph.nodes[key].operations:
                        if isinstance(op, RunPython):
                            op.code(apps, editor)

    def _print_logins(self, host: str, port: int) -> None:
        users = {
            u.username: u
            for u in User.objects.filter(username__in=DEMO_LOGINS)
            .select_related("department__office")
            .prefetch_related("offices")
        }
        rows = [("用户名 username", "角色 role", "管理处 office", "密码 password")]
        with translation.override("zh-hans"):
            for username in DEMO_LOGINS:
                u = users.get(username)
                if u is None:
                    continue
                if u.is_company_wide:
                    where = "全公司 company-wide"
                elif u.department_id:
                    where = f"{u.department.office.name} · {u.department.name}"
                else:
                    where = "、".join(o.name for o in u.offices.all())
                rows.append((username, str(u.get_role_display()), where, DEMO_PASSWORD))
        widths = [max(_width(r[i]) for r in rows) for i in range(len(rows[0]))]
        self.stdout.write("")
        self.stdout.write("演示账号 demo logins:")
        for n, row in enumerate(rows):
            self.stdout.write(
                "  " + "  ".join(_pad(cell, w) for cell, w in zip(row, widths, strict=True)).rstrip()
            )
            if n == 0:
                self.stdout.write("  " + "  ".join("-" * w for w in widths))
        shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
        self.stdout.write("")
        self.stdout.write(f"网址 open:   http://{shown}:{port}/")
        self.stdout.write(f"后台 admin:  http://{shown}:{port}/admin/")
        # Resident portal: sign in with a resident's phone; the demo SMS log holds the code.
        from kesu.org.models import Resident

        y01 = Resident.objects.filter(unit__building__office__code="Y01").order_by("pk")
        demo_resident = (
            y01.filter(complaints__status="resolved").first()  # one with a result to rate
            or y01.filter(complaints__isnull=False).first()
            or y01.first()
        )
        self.stdout.write(f"住户端 portal: http://{shown}:{port}/portal/")
        if demo_resident is not None:
            sms_log = getattr(settings, "KESU_SMS_LOG", settings.KESU_HOME / "sms.log")
            self.stdout.write(
                f"演示住户手机号 demo resident phone: {demo_resident.phone}（验证码见 codes in {sms_log}）"
            )
        self.stdout.write("")


def _width(text: str) -> int:
    """Columns on a terminal: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))
