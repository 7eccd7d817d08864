from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "扩展部署：启动 Celery beat，按时启动全部定时任务，由 `kesu worker` 执行（需设置 KESU_REDIS_URL，只运行一个）。 "
        "Scaled mode: run Celery beat, which starts every periodic job on its interval for the workers: "
        "the deadline sweep, reminders, escalations and the morning digest every KESU_SWEEP_SECONDS, the "
        "outbox and webhook deliveries every KESU_DELIVERY_SECONDS, the monthly report on its day "
        "(needs KESU_REDIS_URL; run one)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--loglevel", default="INFO", help="log level (default INFO)")

    def handle(self, *args, **options):
        if not settings.KESU_REDIS_URL:
            raise CommandError(
                "KESU_REDIS_URL 未设置。内置模式下 `kesu serve` 自己执行全部定时任务，无需 beat。 "
                "KESU_REDIS_URL is not set: in the embedded mode `kesu serve` runs every periodic job itself."
            )
        from kesu.ops.celery import get_app

        app = get_app()
        app.start(
            ["beat", f"--loglevel={options['loglevel']}", f"--schedule={app.conf.beat_schedule_filename}"]
        )
