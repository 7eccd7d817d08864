from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "扩展部署：启动 Celery 工作进程，执行全部定时任务（时限检查、提醒与升级、通知、Webhook、月报报送；需设置 "
        "KESU_REDIS_URL）。 Scaled mode: run a Celery worker that runs every periodic job beat starts "
        "(deadlines, reminders, the outbox, webhooks, the monthly report; needs KESU_REDIS_URL). "
        "Run beside `kesu beat` (one) and any number of `kesu serve --no-sweeper`."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--concurrency",
            type=int,
            default=settings.KESU_WORKER_CONCURRENCY,
            help="worker processes (default KESU_WORKER_CONCURRENCY or 2)",
        )
        parser.add_argument(
            "--pool",
            default="prefork",
            choices=["prefork", "solo", "threads"],
            help="Celery pool (default prefork)",
        )
        parser.add_argument("--loglevel", default="INFO", help="log level (default INFO)")
        parser.add_argument("--hostname", default="", help="worker name (default kesu@<host>)")

    def handle(self, *args, **options):
        if not settings.KESU_REDIS_URL:
            raise CommandError(
                "KESU_REDIS_URL 未设置。内置模式下 `kesu serve` 自己执行全部定时任务，无需 worker。 "
                "KESU_REDIS_URL is not set: in the embedded mode `kesu serve` runs every periodic job itself."
            )
        from django.db import connections

        from kesu.ops.celery import get_app

        connections.close_all()  # never hand an open connection to forked pool processes
        argv = [
            "worker",
            f"--loglevel={options['loglevel']}",
            f"--concurrency={options['concurrency']}",
            f"--pool={options['pool']}",
            "--queues=kesu",
            "--without-gossip",
            "--without-mingle",
        ]
        if options["hostname"]:
            argv.append(f"--hostname={options['hostname']}")
        get_app().worker_main(argv)
