"""Who stands where in the handling of a complaint: the escalation ladder and the managers' own
callback quota (docs/procedures.md, "Escalation" and "Callback and close").

Everything that asks "which role does tier N reach?" or "how many callbacks must this manager make
himself?" reads it here: the notifications, the reminders, the home page and the monthly report.
"""

from __future__ import annotations

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
