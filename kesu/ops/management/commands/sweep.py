from django.core.management.base import BaseCommand

from kesu.ops.jobs import check_deadlines


class Command(BaseCommand):
    help = (
        "检查处理时限：记录每一次超时（每次只记一次）并写入升级通知，另发即将到期提醒、逐级升级和晨报。"
        " Check deadlines once: record breaches and queue escalations, plus due-soon reminders,"
        " tier-by-tier escalation and the managers' morning digest."
    )

    def handle(self, *args, **options):
        result = check_deadlines()
        kinds = ", ".join(f"{k}={n}" for k, n in sorted(result["by_kind"].items())) or "-"
        self.stdout.write(
            f"breaches recorded: {result['breaches']} ({kinds}); "
            f"notifications queued: {result['breach_notifications']}"
        )
        if result["due_soon"] or result["escalations"] or result["digests"]:
            self.stdout.write(
                f"reminders: about to pass {result['due_soon']}, escalations {result['escalations']}, "
                f"digests {result['digests']}"
            )
