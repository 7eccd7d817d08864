"""Portal accounts were named "r-<phone>", and the name shows wherever the account acted (the API
timeline, webhook bodies, the admin): rename them to opaque names, as kesu.portal.codes now gives.
The phone stays in the account's `phone`, which is how sign-in finds it."""

import re
import secrets

from django.db import migrations

_PHONE_NAME = re.compile(r"^r-\+?\d{5,}$")
_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"


def _new_name(taken: set[str]) -> str:
    while True:
        name = "r-" + "".join(secrets.choice(_ALPHABET) for _ in range(12))
        if name not in taken:
            taken.add(name)
            return name


def rename_phone_usernames(apps, schema_editor):
    User = apps.get_model("org", "User")
    taken = set(User.objects.filter(username__startswith="r-").values_list("username", flat=True))
    for user in User.objects.filter(role="resident", username__startswith="r-").only("pk", "username"):
        if _PHONE_NAME.match(user.username):
            User.objects.filter(pk=user.pk).update(username=_new_name(taken))


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0001_initial"),
        ("org", "0001_initial"),
    ]

    # Not reversible to the old names (that would put the phones back); going back keeps the new ones.
    operations = [migrations.RunPython(rename_phone_usernames, migrations.RunPython.noop)]
