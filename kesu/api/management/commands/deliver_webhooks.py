from __future__ import annotations

import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from kesu.api.webhooks import deliver_webhooks


class Command(BaseCommand):
    help = (
        "投递 Webhook。Deliver pending webhook deliveries from the outbox once (or keep looping with "
        "--loop SECONDS). Safe beside other deliverers and the embedded sweeper."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--loop", type=float, metavar="SECONDS", help="repeat every SECONDS until stopped"
        )

    def handle(self, *args, **options):
        while True:
            result = deliver_webhooks()
            self.stdout.write(
                f"webhooks: {result.sent} sent, {result.failed_attempts} failed attempts, {result.gave_up} given up"
            )
            if not options["loop"]:
                return
            time.sleep(options["loop"])
            close_old_connections()
