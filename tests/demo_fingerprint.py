"""A canonical fingerprint of the demo company: every row the demo writes, by natural keys (numbers,
usernames, codes), never by ids or the wall-clock times rows were written at. Equal fingerprints are
the same company. Runnable on its own against any database (`python tests/demo_fingerprint.py SEED
NOW OFFICES LO HI` prints it as JSON on a freshly migrated database) so a test can compare databases.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
from collections import Counter
from typing import Any

# The portal links in messages carry a token signed with the time it was signed at.
_PORTAL_TOKEN = re.compile(r"/portal/l/[^/\s]+/")


def _when(value: dt.datetime | None) -> str | None:
    return value.astimezone(dt.UTC).isoformat() if value is not None else None


def _names() -> dict[type, dict[int, str]]:
    from kesu.complaints.models import Category, Complaint, ComplaintEvent
    from kesu.org.models import Building, Company, Department, Office, Resident, Unit, User

    events = ComplaintEvent.objects.values_list("pk", "complaint__number", "type", "at")
    return {
        Company: dict(Company.objects.values_list("pk", "name")),
        User: dict(User.objects.values_list("pk", "username")),
        Office: dict(Office.objects.values_list("pk", "code")),
        Department: {
            pk: f"{code}/{t}" for pk, code, t in Department.objects.values_list("pk", "office__code", "type")
        },
        Building: {
            pk: f"{code}/{n}" for pk, code, n in Building.objects.values_list("pk", "office__code", "name")
        },
        Unit: dict(Unit.objects.values_list("pk", "code")),
        Resident: {
            pk: f"{u}/{n}/{p}"
            for pk, u, n, p in Resident.objects.values_list("pk", "unit__code", "name", "phone")
        },
        Category: dict(Category.objects.values_list("pk", "code")),
        Complaint: dict(Complaint.objects.values_list("pk", "number")),
        ComplaintEvent: {pk: f"{n}/{t}/{_when(at)}" for pk, n, t, at in events},
    }


def _row(obj: Any, names: dict[type, dict[int, str]], skip: set[str]) -> dict[str, Any]:
    from django.db import models

    out: dict[str, Any] = {}
    for f in obj._meta.concrete_fields:
        if f.primary_key or f.name in skip:
            continue
        value = getattr(obj, f.attname)
        if isinstance(f, models.ForeignKey) and value is not None:
            value = names[f.related_model][value]
        elif isinstance(value, dt.datetime):
            value = _when(value)
        elif isinstance(value, dt.date | dt.time):
            value = value.isoformat()
        out[f.name] = value
    return out


def _changes(changes: dict[str, list[Any]], names: dict[type, dict[int, str]]) -> dict[str, Any]:
    """An event's old → new values, foreign keys by name (their ids are raw in the timeline)."""
    from kesu.complaints.models import Complaint

    out: dict[str, Any] = {}
    for attname, pair in sorted(changes.items()):
        field = next((f for f in Complaint._meta.concrete_fields if f.attname == attname), None)
        model = getattr(field, "related_model", None)
        if model is not None:
            pair = [names[model].get(v, v) if v is not None else None for v in pair]
        out[attname] = pair
    return out


def fingerprint() -> dict[str, Any]:
    from kesu.complaints.models import Callback, Complaint, ComplaintCounter, ComplaintEvent, SlaBreach
    from kesu.notify.models import Outbox
    from kesu.org.models import Building, Department, Office, Resident, Unit, User

    names = _names()
    wall = {"created_at", "updated_at", "last_login", "date_joined", "password"}

    def rows(qs: Any, key: Any = None) -> list[dict[str, Any]]:
        found = [_row(o, names, wall) for o in qs]
        return sorted(found, key=key or (lambda r: json.dumps(r, sort_keys=True, ensure_ascii=False)))

    events = []
    for e in ComplaintEvent.objects.all():
        r = _row(e, names, wall | {"changes"})
        r["changes"] = _changes(e.changes, names)
        events.append(r)
    outbox = []
    for o in Outbox.objects.all():
        r = _row(o, names, wall | {"delivery_key"})
        r["body"] = _PORTAL_TOKEN.sub("/portal/l/TOKEN/", r["body"])
        r["payload"] = {k: v for k, v in sorted(o.payload.items()) if k != "office_id"}
        outbox.append(r)
    by_office: dict[str, Any] = {}
    for code, status, nature, category in Complaint.objects.values_list(
        "office__code", "status", "nature", "category__code"
    ):
        counts = by_office.setdefault(code, {"status": Counter(), "nature": Counter(), "category": Counter()})
        counts["status"][status] += 1
        counts["nature"][nature] += 1
        counts["category"][category or ""] += 1
    dumps = lambda r: json.dumps(r, sort_keys=True, ensure_ascii=False)  # noqa: E731
    return {
        "per_office": {
            code: {k: dict(sorted(v.items())) for k, v in c.items()} for code, c in sorted(by_office.items())
        },
        "offices": rows(Office.objects.all()),
        "departments": rows(Department.objects.all()),
        "buildings": rows(Building.objects.all()),
        "units": len(Unit.objects.all()),
        "residents": rows(Resident.objects.all()),
        "staff": rows(User.objects.all()),
        "staff_offices": sorted(
            (names[User][u], names[Office][o])
            for u, o in User.offices.through.objects.values_list("user", "office")
        ),
        "complaints": rows(Complaint.objects.all(), key=lambda r: r["number"]),
        "events": sorted(events, key=dumps),
        "callbacks": rows(Callback.objects.all()),
        "counters": rows(ComplaintCounter.objects.all()),
        "breaches": rows(SlaBreach.objects.all()),
        "outbox": sorted(outbox, key=dumps),
        "outbox_keys": Outbox.objects.values("delivery_key").distinct().count(),
    }


def main(argv: list[str]) -> None:
    import django

    django.setup()
    from django.core.management import call_command

    from kesu.demo.generate import generate

    seed, now, offices, lo, hi = argv
    call_command("migrate", interactive=False, verbosity=0)
    generate(
        seed=int(seed),
        now=dt.datetime.fromisoformat(now),
        offices=int(offices),
        per_office_month=(int(lo), int(hi)),
    )
    sys.stdout.write(json.dumps(fingerprint(), ensure_ascii=False, sort_keys=True))


if __name__ == "__main__":
    main(sys.argv[1:])
