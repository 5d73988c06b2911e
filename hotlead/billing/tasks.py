"""Jobs of money (idempotent: running one twice corrects nothing twice)."""
from __future__ import annotations

from hotlead.billing.services.reconciliation import balances_reconcile


def balances_reconcile_nightly() -> int:
    """03:00: cached balances vs ledger sums; returns how many accounts were corrected."""
    return len(balances_reconcile())
