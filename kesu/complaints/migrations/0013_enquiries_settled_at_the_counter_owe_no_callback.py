"""An enquiry (咨询型, not valid, not major) answered on the spot owes no callback (docs/decisions/0011):
clear the callback deadline such complaints were given, so that none shows as a callback overdue.
The conditions are policy.settled_at_counter_q as it stood when this was written."""

from django.db import migrations
from django.db.models import Q


def clear_callback_deadlines(apps, schema_editor):
    Complaint = apps.get_model("complaints", "Complaint")
    Complaint.objects.filter(
        ~Q(on_spot_answer=""),
        Q(reopen_count=0),
        Q(nature__in=["assist", "invalid"], nature_subtype="enquiry"),
        Q(is_major=False),
        ~Q(severity="major"),
        callback_due_at__isnull=False,
    ).update(callback_due_at=None)


class Migration(migrations.Migration):
    dependencies = [
        ("complaints", "0012_search_text_without_the_complainant"),
    ]

    operations = [migrations.RunPython(clear_callback_deadlines, migrations.RunPython.noop)]
