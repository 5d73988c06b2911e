"""Row locks of money: accounts and payments; their place in the global order: hotlead.core.locks.

An account row is the mutex of every movement and sale of its provider; several accounts are locked in
provider id order, and a provider's subscriptions only under its account's lock.
"""
from __future__ import annotations

from hotlead.billing.models import Account, Payment
from hotlead.core.locks import lock_taken


def account_lock(*, provider_id: int) -> Account:
    lock_taken("account", provider_id)
    return Account.objects.select_for_update().get(provider_id=provider_id)


def account_balance_lock(*, provider_id: int) -> int | None:
    """The account's balance, read under its lock (None when the provider has no account)."""
    lock_taken("account", provider_id)
    return Account.objects.select_for_update().filter(provider_id=provider_id) \
        .values_list("balance_cents", flat=True).first()


def accounts_balance_lock(*, provider_ids: list[int]) -> dict[int, int]:
    """provider id → balance of the given providers' accounts, locked in provider id order."""
    for provider_id in sorted(provider_ids):
        lock_taken("account", provider_id)
    return dict(
        Account.objects.select_for_update().filter(provider_id__in=provider_ids).order_by("provider_id")
        .values_list("provider_id", "balance_cents")
    )


def payment_lock(*, payment_id: int) -> Payment:
    """A card payment with its provider's user, locked: deliveries of the same payment queue here."""
    lock_taken("payment", payment_id)
    return Payment.objects.select_for_update().select_related("provider__user").get(pk=payment_id)
