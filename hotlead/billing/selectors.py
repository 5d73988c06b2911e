"""Reads of money: balances and ledger sums."""
from __future__ import annotations

from django.db.models import Sum

from hotlead.billing.models import Account, LedgerEntry


def ledger_sum(*, provider_id: int) -> int:
    return LedgerEntry.objects.filter(account_id=provider_id).aggregate(total=Sum("amount_cents"))["total"] or 0


def balance_cents(*, provider_id: int) -> int:
    return Account.objects.filter(provider_id=provider_id).values_list("balance_cents", flat=True).first() or 0
