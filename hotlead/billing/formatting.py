"""Money shown to people: integer cents as "$1,234.56" (USD) or "1,234.56 EUR"."""
from __future__ import annotations

_SYMBOLS = {"USD": "$", "CAD": "CA$", "AUD": "A$", "GBP": "£", "EUR": "€"}


def money_format(cents: int, currency: str = "USD") -> str:
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(int(cents)), 100)
    amount = f"{whole:,}.{part:02d}"
    symbol = _SYMBOLS.get(currency)
    return f"{sign}{symbol}{amount}" if symbol else f"{sign}{amount} {currency}"
