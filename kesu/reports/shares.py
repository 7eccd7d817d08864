"""Shares that add up: largest-remainder rounding of counts to percentages.

Rounding each share on its own can make a column read 100.82% or 99.99%. Here the column is first
floored to the shown precision, then the units still missing go to the items with the largest
remainders (ties: the larger count, then the earlier item), so the shares always add up to exactly
100 at the shown precision. Items with a count of 0 always read 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction


def largest_remainder(counts: Sequence[int], decimals: int) -> list[Decimal | None]:
    """Percentages of `counts` (summing to exactly 100) with `decimals` places; None when all are 0."""
    total = sum(counts)
    if any(c < 0 for c in counts):
        raise ValueError("counts must not be negative")
    if total == 0:
        return [None] * len(counts)
    units = 100 * 10**decimals
    raw = [Fraction(c * units, total) for c in counts]
    floors = [int(r) for r in raw]
    missing = units - sum(floors)
    order = sorted(range(len(counts)), key=lambda i: (-(raw[i] - floors[i]), -counts[i], i))
    for i in order[:missing]:
        floors[i] += 1
    step = Decimal(1).scaleb(-decimals)
    return [(Decimal(f) * step).quantize(step) for f in floors]


def rate(numerator: int, denominator: int, decimals: int = 1) -> Decimal | None:
    """numerator/denominator as a percentage, rounded half up; None when there is nothing to measure."""
    if not denominator:
        return None
    step = Decimal(1).scaleb(-decimals)
    return (Decimal(numerator) * 100 / Decimal(denominator)).quantize(step, rounding=ROUND_HALF_UP)


def num(value: Decimal | None) -> float | None:
    """A Decimal as a JSON number (33.33 stays 33.33)."""
    return None if value is None else float(value)
