"""Money shown to people: integer cents as "$1,234.56" (USD) or "1,234.56 XYZ" (a currency without a symbol).

The one formatter of amounts for e-mails, the console, the portal and error messages. It takes integer
cents only (all amounts are, SPEC §5) and never divides by 100 in floating point.
"""
from __future__ import annotations

from django.conf import settings

CURRENCY_SYMBOLS = {"USD": "$", "CAD": "CA$", "AUD": "A$", "GBP": "£", "EUR": "€"}
MISSING = "—"


def money_format(cents: int | None, currency: str | None = None, *, signed: bool = False) -> str:
    """12345 → "$123.45", -5 → "-$0.05", with `signed` 5 → "+$0.05"; None → "—".

    The currency is the site's (HOTLEAD["CURRENCY"]) unless one is given.
    """
    if cents is None:
        return MISSING
    if isinstance(cents, float):
        raise TypeError(f"money is integer cents, not {cents!r}")
    cents = int(cents)
    currency = currency or settings.HOTLEAD.get("CURRENCY", "USD")
    sign = "-" if cents < 0 else "+" if signed and cents > 0 else ""
    whole, part = divmod(abs(cents), 100)
    amount = f"{whole:,}.{part:02d}"
    symbol = CURRENCY_SYMBOLS.get(currency)
    return f"{sign}{symbol}{amount}" if symbol else f"{sign}{amount} {currency}"


def whole_dollars_format(cents: int) -> str:
    """50000 → "$500": a round amount in a sentence (a limit, a budget), the cents dropped."""
    return f"{CURRENCY_SYMBOLS.get(settings.HOTLEAD.get('CURRENCY', 'USD'), '$')}{cents // 100:,}"
