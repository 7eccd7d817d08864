"""Who stands where in the handling of a complaint: the escalation ladder and the managers' own
callback quota (docs/procedures.md, "Escalation" and "Callback and close").

Everything that asks "which role does tier N reach?" or "how many callbacks must this manager make
himself?" reads it here: the notifications, the reminders, the home page and the monthly report.
And when the desk must ask whether a new complaint repeats an earlier one (kesu.complaints.repeats).
"""

from __future__ import annotations

import datetime as dt

from kesu.org.choices import Role

from .choices import Tier

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
