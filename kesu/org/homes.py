"""How many households (户数) an office manages: the one rule behind every figure that divides by them
(the monthly report's 有效投诉率（占户数）, its pages and files, the API, the admin list).

The homes on file (Unit rows, 栋/房号) are the households: they are what the company actually loaded,
and they change as estates are handed over. An office with no homes loaded yet falls back to its
configured number (`Office.households`, 户数), so that a new office does not divide by zero; which of
the two was used is told alongside the number (`source`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from .models import Office, Unit

UNITS = "units"  # counted from the homes on file
CONFIGURED = "configured"  # the office's configured 户数: no homes loaded yet
ANNOTATION = "units_on_file"


@dataclass(frozen=True)
class Households:
    count: int
    source: str  # UNITS | CONFIGURED


def decide(units_on_file: int, configured: int) -> Households:
    """The rule: the homes on file, or the configured number for an office with none loaded."""
    if units_on_file:
        return Households(units_on_file, UNITS)
    return Households(configured, CONFIGURED)


def households_of(offices: Iterable[Office]) -> dict[int, Households]:
    """Households by office id, for many offices in one query."""
    offices = list(offices)
    if not offices:
        return {}
    counts = dict(
        Unit.objects.filter(building__office__in=[o.pk for o in offices])
        .order_by()
        .values("building__office_id")
        .annotate(n=Count("id"))
        .values_list("building__office_id", "n")
    )
    return {o.pk: decide(counts.get(o.pk, 0), o.households) for o in offices}


def with_units_on_file(qs: QuerySet[Office]) -> QuerySet[Office]:
    """Offices annotated with their homes on file, for lists that show households row by row."""
    units = (
        Unit.objects.filter(building__office=OuterRef("pk"))
        .order_by()
        .values("building__office")
        .annotate(n=Count("id"))
        .values("n")
    )
    return qs.annotate(**{ANNOTATION: Coalesce(Subquery(units, output_field=IntegerField()), Value(0))})


def households(office: Office) -> Households:
    """One office's households (from the annotation of `with_units_on_file` when present)."""
    units = getattr(office, ANNOTATION, None)
    if units is None:
        return households_of([office])[office.pk]
    return decide(units, office.households)
