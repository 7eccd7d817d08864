"""Drill-down links from a report figure to the complaint list (kesu/complaints/filters.py names)."""

from __future__ import annotations

from urllib.parse import urlencode

from django import template

from kesu.complaints.choices import Status
from kesu.reports.monthly import UNASSESSED

register = template.Library()

COMPLAINT_LIST = "/complaints/"
# Merged complaints are counted once, as the complaint they joined: the list leaves them out too.
COUNTED_STATUSES = [s.value for s in Status if s != Status.MERGED]
# Enquiries settled at the counter are counted apart from the complaints (policy.settled_at_counter).
ENQUIRY = "on_spot_enquiry"


def drill_url(report: dict, **filters: str | None) -> str:
    """The complaint-list URL showing exactly the complaints behind a figure of `report`."""
    params: list[tuple[str, str]] = []
    office = filters.pop("office", None) or (report["scope"]["office"] or {}).get("code")
    if office:
        params.append(("office", office))
    elif report["scope"]["type"] == "offices":
        params += [("office", code) for code in report["scope"]["offices"]]
    for key, value in filters.items():
        if value:
            params.append((key, value))
    params += [("received_after", report["period"]["start"]), ("received_before", report["period"]["end"])]
    return list_url(*params)


def list_url(*params: tuple[str, str]) -> str:
    """The complaint list filtered by `params`, merged complaints left out as the figures do, and
    enquiries settled at the counter left out unless `params` asks for them."""
    extra = [] if any(k == ENQUIRY for k, _v in params) else [(ENQUIRY, "false")]
    return f"{COMPLAINT_LIST}?{urlencode([*params, *extra, *(('status', s) for s in COUNTED_STATUSES)])}"


@register.simple_tag
def drill(
    report: dict,
    office: str = "",
    nature: str = "",
    category: str = "",
    is_major: str = "",
    on_spot_enquiry: str = "",
) -> str:
    if nature == UNASSESSED or category is None:
        return ""
    return drill_url(
        report,
        office=office or None,
        nature=nature or None,
        category=category or None,
        is_major=is_major or None,
        **{ENQUIRY: on_spot_enquiry or None},
    )


@register.filter
def pct(value, decimals: int = 1) -> str:
    from kesu.reports.render.common import pct as fmt

    return fmt(value, int(decimals))


@register.filter
def get(mapping: dict, key):
    return (mapping or {}).get(key)


@register.filter
def kpi_value(k: dict) -> str:
    from kesu.reports.render.common import kpi_value as fmt

    return fmt(k)


@register.filter
def kpi_previous(k: dict) -> str:
    from kesu.reports.render.common import kpi_value as fmt

    return fmt(k, "previous")


@register.filter
def kpi_change(k: dict) -> str:
    from kesu.reports.render.common import kpi_change as fmt

    return fmt(k)


@register.filter
def kpi_fraction(k: dict) -> str:
    from kesu.reports.render.common import kpi_fraction as fmt

    return fmt(k)
