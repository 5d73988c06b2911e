"""Rates over a provider's last N leads (SPEC §6): the return rate and the reject rate share one arithmetic.

The denominator is the window itself, not the leads bought so far: a new provider's first bad lead is 1 of 50,
not 1 of 1, so a cap means the same absolute number for everybody.
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal


def window_percent(count: int, window: int) -> Decimal:
    """count ÷ window as a percentage with two decimals (0.00 for an empty window)."""
    if window <= 0:
        return Decimal("0.00")
    return (Decimal(count * 100) / Decimal(window)).quantize(Decimal("0.01"), ROUND_HALF_UP)


def window_over_cap(count: int, window: int, max_percent: int) -> bool:
    """More than max_percent of the window (integers only: no rounding decides it)."""
    return count * 100 > max_percent * window
