"""Nightly reconciliation (SPEC §5): a cached balance that differs from its ledger sum is set to the sum."""
from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import transaction
from django.db.models import BigIntegerField, F, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from hotlead.billing.lock_objects import account_lock
from hotlead.billing.metrics import operation_timed, reconciliation_correction_counted
from hotlead.billing.models import Account, LedgerEntry
from hotlead.billing.services.ledger import _funds_changed
from hotlead.core.services import audit_record

logger = logging.getLogger("hotlead.billing")


@dataclass(frozen=True)
class Correction:
    provider_id: int
    cached_cents: int
    ledger_cents: int


def balances_reconcile() -> list[Correction]:
    """Nightly: every account whose cached balance differs from its ledger sum is set to the ledger sum."""
    with operation_timed("reconcile"):
        suspects = list(
            Account.objects.annotate(ledger=Coalesce(Sum("entries__amount_cents"), 0, output_field=BigIntegerField()))
            .exclude(balance_cents=F("ledger"))
            .values_list("provider_id", flat=True)
        )
        corrections = [c for provider_id in suspects if (c := account_reconcile(provider_id=provider_id))]
    return corrections


@transaction.atomic
def account_reconcile(*, provider_id: int) -> Correction | None:
    """Compare one account with its ledger under the row lock; correct the cache to the ledger sum."""
    account = account_lock(provider_id=provider_id)
    ledger = LedgerEntry.objects.filter(account_id=provider_id).aggregate(total=Sum("amount_cents"))["total"] or 0
    if ledger == account.balance_cents:
        return None
    correction = Correction(provider_id=provider_id, cached_cents=account.balance_cents, ledger_cents=ledger)
    changes = {"cached_cents": account.balance_cents, "ledger_cents": ledger,
               "difference_cents": ledger - account.balance_cents}
    if ledger < 0:
        # The ledger itself is wrong (its entries never allow this); a person must look, the CHECK stays intact.
        logger.error("reconciliation: ledger sum is negative", extra={"provider_id": provider_id, **changes})
        audit_record(action="balance.reconcile_failed", obj=account, changes=changes)
        return None
    Account.objects.filter(pk=provider_id).update(balance_cents=ledger, updated_at=timezone.now())
    audit_record(action="balance.reconciled", obj=account, changes=changes)
    reconciliation_correction_counted()
    logger.warning("reconciliation corrected a balance", extra={"provider_id": provider_id, **changes})
    _funds_changed(provider_id=provider_id)
    return correction
