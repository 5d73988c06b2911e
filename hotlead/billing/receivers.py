"""Billing's answers to other apps' signals (connected in apps.py)."""
from __future__ import annotations

from hotlead.billing.services.ledger import account_get_or_create


def provider_registered_account_open(sender, *, provider, **kwargs) -> None:
    """Every provider has an account from its registration on (balance 0)."""
    account_get_or_create(provider_id=provider.pk)
