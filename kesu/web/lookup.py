"""Intake helpers: find the caller's home as the clerk types (栋-房号, phone or name), and the unit's
and caller's recent complaints with the likely repeat complaints (重复投诉) among them (which ones,
kesu.complaints.repeats decides).

Both say who lives where and who complained: they are the customer-service desk's
(kesu.complaints.scope.may_look_up; the views also count each use), and a complaint whose
complainant the clerk may not identify (scope.complainant_visible_q) is never found by its home or
its caller."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone

from kesu.complaints import repeats as repeat_rules
from kesu.complaints.choices import OPEN_STATUSES
from kesu.complaints.models import Category, Complaint
from kesu.complaints.policy import REPEAT_WINDOW
from kesu.complaints.scope import complainant_view, complainant_visible_q, may_look_up
from kesu.complaints.validation import normalize_phone
from kesu.org.models import Office, Resident, Unit

HISTORY_WINDOW = dt.timedelta(days=180)
MAX_RESULTS = 12

# "3栋-1201", "3-1201", "3栋1201", "3 1201", "A座-502"
_UNIT = re.compile(r"^\s*([0-9A-Za-z\u4e00-\u9fff]+?)\s*[栋幢座号楼]?\s*[-－—/\s]\s*([0-9A-Za-z]+)\s*$")
_UNIT_GLUED = re.compile(r"^\s*(\d+)\s*[栋幢座]\s*(\d+)\s*$")
_DIGITS = re.compile(r"\D")


@dataclass
class Hit:
    unit: Unit
    resident: Resident | None

    @property
    def key(self) -> str:
        return f"{self.unit.pk}:{self.resident.pk if self.resident else ''}"


def _building_names(raw: str) -> list[str]:
    raw = raw.strip()
    names = {raw}
    if raw[-1:] not in "栋幢座楼":
        names |= {raw + "栋", raw + "幢", raw + "座"}
    return sorted(names)


def units_matching(office_ids: list[int], text: str):
    """Units whose 栋-房号 matches what was typed (within the given offices)."""
    text = (text or "").strip()
    base = Unit.objects.filter(building__office_id__in=office_ids)
    m = _UNIT.match(text) or _UNIT_GLUED.match(text)
    if m:
        building, number = m.groups()
        return base.filter(building__name__in=_building_names(building), number__startswith=number)
    if text.isdigit():
        return base.filter(number=text)
    return base.filter(code__icontains=text) if len(text) >= 3 else base.none()


def find(office_ids: list[int], text: str, limit: int = MAX_RESULTS) -> list[Hit]:
    """Homes and residents for the look-up box: by unit, by phone (any 4+ digits of it) or by name."""
    text = (text or "").strip()
    if len(text) < 2:
        return []
    hits: dict[str, Hit] = {}
    residents = Resident.objects.filter(unit__building__office_id__in=office_ids).select_related(
        "unit__building__office"
    )
    units = list(units_matching(office_ids, text).select_related("building__office").order_by("code")[:limit])
    if units:
        by_unit: dict[int, list[Resident]] = {}
        for r in residents.filter(unit__in=units).order_by("unit_id", "kind", "name"):
            by_unit.setdefault(r.unit_id, []).append(r)
        for u in units:
            for r in by_unit.get(u.pk, []) or [None]:
                h = Hit(u, r)
                hits.setdefault(h.key, h)
    digits = _DIGITS.sub("", text)
    if len(digits) >= 4 and len(digits) == len(text.replace("-", "").replace(" ", "")):
        for r in residents.filter(phone__contains=digits).order_by("unit__code")[:limit]:
            h = Hit(r.unit, r)
            hits.setdefault(h.key, h)
    elif not digits and len(text) >= 2:
        for r in residents.filter(name__contains=text).order_by("unit__code")[:limit]:
            h = Hit(r.unit, r)
            hits.setdefault(h.key, h)
    return list(hits.values())[:limit]


def unit_in_office(office: Office, text: str) -> Unit | None:
    """The one unit of this office the text names (label "3栋-1201" or full code), or None."""
    text = (text or "").strip()
    if not text:
        return None
    qs = Unit.objects.filter(building__office=office).select_related("building")
    exact = qs.filter(code__in=[text, f"{office.code}-{text}"]).first()
    if exact:
        return exact
    m = _UNIT.match(text) or _UNIT_GLUED.match(text)
    if m:
        building, number = m.groups()
        found = list(qs.filter(building__name__in=_building_names(building), number=number)[:2])
        if len(found) == 1:
            return found[0]
    return None


def clean_phone(raw: str) -> str:
    try:
        return normalize_phone(raw or "")
    except ValidationError:
        return ""


@dataclass
class History:
    recent: list[Complaint]
    repeats: list[Complaint]  # likely repeats the clerk must answer for
    category: Category | None
    searched: bool
    homes: dict[int, str] | None = None  # complaint id → its home as the user may see it
    # Likely repeats already answered "not a repeat" for this home or caller: number → the number of
    # the complaint registered with that answer. Shown, never asked again.
    ruled: dict[str, str] | None = None

    @property
    def rows(self) -> list[tuple[Complaint, str, bool, str]]:
        """(complaint, home, is a likely repeat, the complaint that ruled it out) for the partial."""
        homes, ruled = self.homes or {}, self.ruled or {}
        return [(c, homes.get(c.pk, ""), c in self.repeats, ruled.get(c.number, "")) for c in self.recent]

    @property
    def window_days(self) -> int:
        """How long after closing an earlier complaint may still be repeated (the policy's window)."""
        return REPEAT_WINDOW.days


def history(
    user,
    *,
    unit: Unit | None,
    phone: str,
    category: Category | None,
    content: str = "",
    now: dt.datetime | None = None,
) -> History:
    """The unit's and the caller's recent complaints (those the user may see, and whose complainant
    they may identify: finding a complaint by its home or caller says who made it) and, among them,
    the likely repeat complaints: those that may be the same matter as the new one's category and
    text (kesu.complaints.repeats.may_repeat), less those the desk already said an earlier call of
    this home or caller about the same matter does not repeat (repeats.ruled_out). Nothing for a
    user who may not use the look-ups."""
    now = now or timezone.now()
    if not may_look_up(user):
        return History([], [], category, searched=False)
    who = Q()
    if unit is not None:
        who |= Q(unit=unit)
    if phone:
        who |= Q(complainant_phone=phone) | Q(resident__phone=phone)
    if not who:
        return History([], [], category, searched=False)
    theirs = Complaint.objects.visible_to(user).filter(complainant_visible_q(user)).filter(who)
    recent = list(
        theirs.filter(Q(status__in=OPEN_STATUSES) | Q(received_at__gte=now - HISTORY_WINDOW))
        .select_related("category", "unit__building", "office")
        .order_by("-received_at")[:10]
    )
    likely = [c for c in recent if repeat_rules.may_repeat(c, category=category, content=content, now=now)]
    ruled = repeat_rules.ruled_out(theirs, likely, category=category, content=content)
    repeats = [c for c in likely if c.number not in ruled]
    homes = {c.pk: complainant_view(user, c).unit_label for c in recent}
    return History(recent, repeats, category, searched=True, homes=homes, ruled=ruled)
