"""Metrics of money (SPEC §11). Counters move after commit, so a rolled-back deposit counts nothing."""
from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import transaction
from prometheus_client import Counter, Histogram

from hotlead.core.exceptions import ApplicationError

BILLING_OPERATION_DURATION = Histogram(
    "hotlead_billing_operation_duration_seconds",
    "Duration of a billing operation (deposit, charge, refund, adjustment, payment_webhook, reconcile…)",
    ["operation"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
DEPOSITS = Counter(
    "hotlead_deposits",
    "Deposits credited to provider accounts, by source (staff, webhook)",
    ["source"],
)
DEPOSITED_CENTS = Counter(
    "hotlead_deposited_cents",
    "Money credited by deposits, in cents, by source (staff, webhook)",
    ["source"],
)
# outcome: ok; refused (an ApplicationError: a business rule said no, e.g. insufficient funds);
# error (anything else: the database, a bug). The "billing failures" alert watches outcome="error".
BILLING_OPERATIONS = Counter(
    "hotlead_billing_operations",
    "Billing operations attempted, by operation and outcome (ok, refused, error)",
    ["operation", "outcome"],
)
RECONCILIATION_CORRECTIONS = Counter(
    "hotlead_billing_reconciliation_corrections",
    "Accounts whose cached balance differed from the ledger sum and was corrected by reconciliation",
)


@contextmanager
def operation_timed(operation: str) -> Iterator[None]:
    """Observe how long a billing operation took (also when it fails), and count it by outcome."""
    started = time.perf_counter()
    outcome = "error"
    try:
        yield
        outcome = "ok"
    except ApplicationError:
        outcome = "refused"
        raise
    finally:
        BILLING_OPERATION_DURATION.labels(operation=operation).observe(time.perf_counter() - started)
        BILLING_OPERATIONS.labels(operation=operation, outcome=outcome).inc()


def deposit_counted(*, source: str, amount_cents: int) -> None:
    def _count() -> None:
        DEPOSITS.labels(source=source).inc()
        DEPOSITED_CENTS.labels(source=source).inc(amount_cents)

    transaction.on_commit(_count)


def reconciliation_correction_counted() -> None:
    transaction.on_commit(RECONCILIATION_CORRECTIONS.inc)
