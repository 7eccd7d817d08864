from django.core.management.base import BaseCommand

from kesu.complaints.sweep import sweep


class Command(BaseCommand):
    help = "检查处理时限：记录每一次超时（每次只记一次），并写入升级通知。Check deadlines once and queue escalations."

    def handle(self, *args, **options):
        result = sweep()
        kinds = ", ".join(f"{k}={n}" for k, n in sorted(result.by_kind.items())) or "-"
        self.stdout.write(
            f"breaches recorded: {result.breaches} ({kinds}); notifications queued: {result.notifications}"
        )
