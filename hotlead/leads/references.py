"""The short human reference of a lead (e.g. HL-7K3Q9): what a homeowner reads out on the phone.

Five characters from an alphabet without look-alikes (no 0/O, 1/I/L, no U) give 30**5 ≈ 24.3 million
references; the column is unique and `reference_unused` retries on the rare collision.
"""
from __future__ import annotations

import secrets

REFERENCE_PREFIX = "HL-"
REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
REFERENCE_LENGTH = 5
_TRIES = 20


def reference_generate() -> str:
    """A random reference; unique only with high probability (the database column is unique)."""
    return REFERENCE_PREFIX + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))


def reference_unused() -> str:
    """A reference no lead has yet (checked against the table; the unique index settles a race)."""
    from hotlead.leads.models import Lead

    for _ in range(_TRIES):
        candidate = reference_generate()
        if not Lead.objects.filter(reference=candidate).exists():
            return candidate
    raise RuntimeError("Could not find an unused lead reference; widen REFERENCE_LENGTH.")
