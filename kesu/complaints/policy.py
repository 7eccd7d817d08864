"""Who stands where in the handling of a complaint: the escalation ladder and the managers' own
callback quota (docs/procedures.md, "Escalation" and "Callback and close").

Everything that asks "which role does tier N reach?", "how many callbacks must this manager make
himself?" or "does this complaint owe a callback?" reads it here: the notifications, the reminders,
the deadlines, the home page and the monthly report. And when the desk must ask whether a new
complaint repeats an earlier one (kesu.complaints.repeats).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.db.models import Q

from kesu.org.choices import Role

from .choices import Nature, NatureSubtype, Severity, Tier

if TYPE_CHECKING:
    from .models import Complaint

# The escalation ladder: the role each handling tier reaches (front line → managers → company →
# executive). A deadline that stays passed climbs it one tier at a time.
TIER_ROLES: dict[int, tuple[str, ...]] = {
    Tier.FRONT_LINE: (Role.SUPERVISOR,),
    Tier.CS_MANAGER: (Role.CS_MANAGER,),
    Tier.DIRECTOR: (Role.DIRECTOR,),
    Tier.COMPANY: (Role.QUALITY,),
    Tier.EXECUTIVE: (Role.EXECUTIVE,),
}
TOP_TIER: int = max(TIER_ROLES)


def tier_of(role: str) -> int | None:
    """The ladder's tier a role stands at (None: not on the ladder)."""
    return next((tier for tier, roles in TIER_ROLES.items() if role in roles), None)


# Callbacks a month each manager makes himself: CS-centre manager at least 3, office director at least 1.
CALLBACK_QUOTA: dict[str, int] = {Role.CS_MANAGER: 3, Role.DIRECTOR: 1}


def callback_quota(role: str, months: int = 1) -> int | None:
    """How many callbacks of his own a manager in `role` owes over `months` months (None: no quota)."""
    per_month = CALLBACK_QUOTA.get(role)
    return None if per_month is None else per_month * months


# Likely repeats at intake (重复投诉, kesu.complaints.repeats): an earlier complaint of the same home
# or caller that is open, or closed within this window, and is about the same matter.
REPEAT_WINDOW = dt.timedelta(days=30)
# Texts are about the same matter when the subject words they share make up at least this share of
# the shorter text's ("电梯又坏了" and "3号电梯停运": "电梯" is one of two, 0.5).
REPEAT_TEXT_OVERLAP = 0.5


# --- enquiries answered on the spot (docs/decisions/0011) ---------------------------------------------
# A non-valid complaint of the 沟通性 sub-type 咨询型 that the desk answered on the spot is an enquiry
# settled at the counter: no callback is owed (no callback deadline, never "not called back"), it may
# close at once, and the monthly report counts it apart from the complaints. Everything that asks
# "does this complaint owe a callback?" reads it here: the callback deadline (deadlines.py), close
# (services.close_refusal), the home page's queue, the web's next step and the report's callback rate.
NON_VALID_NATURES = (Nature.ASSIST, Nature.INVALID)


def answered_on_the_spot(c: Complaint) -> bool:
    """Answered at the counter, and that answer still stands (never sent back for rectification)."""
    return bool(c.on_spot_answer) and c.reopen_count == 0


def settled_at_counter(c: Complaint) -> bool:
    """An enquiry (咨询型, not valid, not major) answered on the spot: settled, owes no callback."""
    return (
        answered_on_the_spot(c)
        and c.nature in NON_VALID_NATURES
        and c.nature_subtype == NatureSubtype.ENQUIRY
        and c.effective_severity != Severity.MAJOR
    )


def settled_at_counter_q() -> Q:
    """`settled_at_counter` as a query (the report, the home page's queues, the complaint list); the
    same conditions (effective_severity is major when is_major or severity is major)."""
    return (
        ~Q(on_spot_answer="")
        & Q(reopen_count=0)
        & Q(nature__in=list(NON_VALID_NATURES), nature_subtype=NatureSubtype.ENQUIRY)
        & Q(is_major=False)
        & ~Q(severity=Severity.MAJOR)
    )


def needs_callback(c: Complaint) -> bool:
    """Whether the complaint owes its complainant a callback once handled (回访率 100%)."""
    return not settled_at_counter(c)


def needs_callback_q() -> Q:
    return ~settled_at_counter_q()


def may_close_without_callback(c: Complaint) -> bool:
    """The complainant accepted the answer at the counter and nobody has called back since: a settled
    enquiry, or any other complaint (not major) answered on the spot. Such a complaint that still owes a
    callback (needs_callback) counts as not called back in the report's callback rate when closed so."""
    return answered_on_the_spot(c) and c.effective_severity != Severity.MAJOR and not c.satisfaction
