"""The short human reference of a lead (e.g. HL-7K3Q9): what a homeowner reads out on the phone.

Five characters from an alphabet without look-alikes (no 0/O, 1/I/L, no U) give 30**5 ≈ 24.3 million
references; the column is unique and `leads.selectors.reference_unused` retries on the rare collision.
"""
from __future__ import annotations

import secrets

REFERENCE_PREFIX = "HL-"
REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
REFERENCE_LENGTH = 5


def reference_generate() -> str:
    """A random reference; unique only with high probability (the database column is unique)."""
    return REFERENCE_PREFIX + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))
