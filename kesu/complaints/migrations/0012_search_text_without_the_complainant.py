"""`search_text` held the complainant's address, so search confirmed a withheld address one word at a
time: re-index every complaint from its content and complained party only (search.complaint_index)."""

from django.db import migrations


def reindex(apps, schema_editor):
    Complaint = apps.get_model("complaints", "Complaint")
    rows = Complaint.objects.only("pk", "content", "complained_party", "search_text").order_by("pk")
    if not rows.exists():
        return  # a new database: no need to load the dictionary
    from kesu.complaints.search import complaint_index

    batch = []
    for c in rows.iterator(chunk_size=1000):
        text = complaint_index(c.content, c.complained_party)
        if text != c.search_text:
            c.search_text = text
            batch.append(c)
        if len(batch) >= 1000:
            Complaint.objects.bulk_update(batch, ["search_text"])
            batch = []
    if batch:
        Complaint.objects.bulk_update(batch, ["search_text"])


class Migration(migrations.Migration):
    dependencies = [
        ("complaints", "0011_resolution_told"),
    ]

    operations = [migrations.RunPython(reindex, migrations.RunPython.noop)]
