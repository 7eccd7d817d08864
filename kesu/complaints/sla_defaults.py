"""The built-in time limits (处理时限) by severity, docs/procedures.md §4. Companies configure their own in
the admin; these apply where no row says otherwise, seed the company-default rows of a new database
(migration 0003) and are the admin form's starting values.

Plain data with no imports, keyed by severity code and SlaPolicy field name, so that a migration may
read it.
"""

# The escalation ladder's waits (docs/procedures.md §4: team lead 15 min → duty manager 30 min → company
# 1 h): while a deadline stays passed, the minutes after the previous step (the breach, then each
# escalation) before the next tier hears of it — the office director, then company quality, then the
# executive (kesu.complaints.reminders). Per office and severity like every other limit here.
ESCALATION_MINUTES: dict[str, object] = {
    "escalate_director_minutes": 15,
    "escalate_company_minutes": 30,
    "escalate_executive_minutes": 60,
}

DEFAULT_POLICIES: dict[str, dict[str, object]] = {
    # 重大: forward in 10 min; director at once and company within 1 h; resolve as fast as possible
    # (24 clock hours as the outer limit); on-site callback within 24 h by managers.
    "major": {
        "forward_minutes": 10,
        "night_waits_for_morning": False,
        "report_minutes": 60,
        "answer_hours": 24,
        "answer_in_working_window": False,  # a major complaint is answered day or night
        "resolve_hours": 24,
        "resolve_in_working_hours": False,
        "honour_requested_time": False,
        "callback_hours": 24,
        "callback_in_working_hours": False,
        "callback_onsite_required": True,
        "callback_by": "manager",
        **ESCALATION_MINUTES,
    },
    # 一般: forward in 20 min; resolve within 24 working hours; callback within 24 h.
    "general": {
        "forward_minutes": 20,
        "night_waits_for_morning": True,
        "report_minutes": None,
        "answer_hours": 48,
        "answer_in_working_window": True,  # never promise an answer for a time the office is closed
        "resolve_hours": 24,
        "resolve_in_working_hours": True,
        "honour_requested_time": False,
        "callback_hours": 24,
        "callback_in_working_hours": False,
        "callback_onsite_required": False,
        "callback_by": "supervisor",
        **ESCALATION_MINUTES,
    },
    # 轻微: as 一般, but by the time the complainant asked if that is sooner.
    "minor": {
        "forward_minutes": 30,
        "night_waits_for_morning": True,
        "report_minutes": None,
        "answer_hours": 48,
        "answer_in_working_window": True,
        "resolve_hours": 24,
        "resolve_in_working_hours": True,
        "honour_requested_time": True,
        "callback_hours": 24,
        "callback_in_working_hours": False,
        "callback_onsite_required": False,
        "callback_by": "supervisor",
        **ESCALATION_MINUTES,
    },
}

# The admin form's starting values for a new row: the 一般 defaults.
FORM_DEFAULTS = DEFAULT_POLICIES["general"]
