"""The ledger's primitives (SPEC §5): every money movement goes through `_entry_post`.

Invariants, held under concurrency and retries:
- the account row is locked (SELECT … FOR UPDATE) before its balance is read and changed, and the
  entry and the new cached balance are written in the same transaction;
- the balance never goes below zero (checked here, and by a CHECK constraint);
- an idempotency key moves money at most once: a retry returns the first entry.
"""
from __future__ import annotations

from django.db import IntegrityError, transaction

from hotlead.billing.enums import EntryKind
from hotlead.billing.models import Account, LedgerEntry
from hotlead.core.exceptions import Conflict, InsufficientBalance, ValidationFailed


def account_get_or_create(*, provider_id: int) -> Account:
    account, _ = Account.objects.get_or_create(provider_id=provider_id)
    return account


def _existing_for_key(*, key: str, provider_id: int, kind: str, amount_cents: int) -> LedgerEntry | None:
    entry = LedgerEntry.objects.filter(idempotency_key=key).first()
    if entry is None:
        return None
    if entry.account_id != provider_id or entry.kind != kind or entry.amount_cents != amount_cents:
        raise Conflict(
            "This idempotency key was already used for a different money movement.",
            details={"idempotency_key": key},
        )
    return entry


@transaction.atomic
def _entry_post(
    *,
    provider_id: int,
    kind: str,
    amount_cents: int,
    key: str,
    actor=None,
    memo: str = "",
    reference: str = "",
    related_type: str = "",
    related_id: str | int = "",
    refund_of: LedgerEntry | None = None,
) -> tuple[LedgerEntry, bool]:
    """Append one entry and move the cached balance. Returns (entry, created)."""
    if not key:
        raise ValidationFailed.for_field("idempotency_key", "An idempotency key is required.")
    if entry := _existing_for_key(key=key, provider_id=provider_id, kind=kind, amount_cents=amount_cents):
        return entry, False
    Account.objects.get_or_create(provider_id=provider_id)
    account = Account.objects.select_for_update().get(provider_id=provider_id)
    # A concurrent call with the same key may have committed while we waited for the lock.
    if entry := _existing_for_key(key=key, provider_id=provider_id, kind=kind, amount_cents=amount_cents):
        return entry, False
    new_balance = account.balance_cents + amount_cents
    if new_balance < 0:
        raise InsufficientBalance(
            details={"balance_cents": account.balance_cents, "needed_cents": -amount_cents}
        )
    try:
        with transaction.atomic():
            entry = LedgerEntry.objects.create(
                account_id=provider_id,
                kind=kind,
                amount_cents=amount_cents,
                balance_after_cents=new_balance,
                idempotency_key=key,
                actor=actor if getattr(actor, "pk", None) else None,
                memo=memo[:500],
                reference=reference[:200],
                related_type=related_type,
                related_id=str(related_id or ""),
                refund_of=refund_of,
            )
    except IntegrityError:
        # The key (or the refund's charge) was taken by another transaction with another account lock.
        existing = _existing_for_key(key=key, provider_id=provider_id, kind=kind, amount_cents=amount_cents)
        if existing is not None:
            return existing, False
        raise Conflict("This charge has already been refunded.")
    Account.objects.filter(pk=provider_id).update(balance_cents=new_balance)
    return entry, True


def deposit_post(*, provider_id: int, amount_cents: int, key: str, actor=None, memo: str = "",
                 reference: str = "", related_type: str = "", related_id: str | int = "") -> LedgerEntry:
    """Credit a provider's account once per key."""
    if amount_cents <= 0:
        raise ValidationFailed.for_field("amount_cents", "A deposit must be a positive amount.")
    entry, _ = _entry_post(provider_id=provider_id, kind=EntryKind.DEPOSIT, amount_cents=amount_cents, key=key,
                           actor=actor, memo=memo, reference=reference, related_type=related_type,
                           related_id=related_id)
    return entry


def charge_post(*, provider_id: int, amount_cents: int, key: str, memo: str = "",
                related_type: str = "", related_id: str | int = "") -> LedgerEntry:
    """Debit a provider once per key; refuse to overdraw (InsufficientBalance)."""
    if amount_cents <= 0:
        raise ValidationFailed.for_field("amount_cents", "A charge must be a positive amount.")
    entry, _ = _entry_post(provider_id=provider_id, kind=EntryKind.CHARGE, amount_cents=-amount_cents, key=key,
                           memo=memo, related_type=related_type, related_id=related_id)
    return entry


def refund_post(*, charge: LedgerEntry, actor=None, memo: str = "", related_type: str = "",
                related_id: str | int = "") -> LedgerEntry:
    """Return exactly the charged amount, at most once per charge (unique refund_of)."""
    if charge.kind != EntryKind.CHARGE:
        raise Conflict("Only a charge can be refunded.")
    entry, _ = _entry_post(provider_id=charge.account_id, kind=EntryKind.REFUND, amount_cents=-charge.amount_cents,
                           key=f"refund:{charge.pk}", actor=actor, memo=memo, related_type=related_type,
                           related_id=related_id, refund_of=charge)
    return entry


def adjustment_post(*, provider_id: int, amount_cents: int, key: str, actor, reason: str) -> LedgerEntry:
    """A staff correction (±) with a reason; refused if it would make the balance negative."""
    if amount_cents == 0:
        raise ValidationFailed.for_field("amount_cents", "An adjustment cannot be zero.")
    if not reason.strip():
        raise ValidationFailed.for_field("reason", "A reason is required for an adjustment.")
    entry, _ = _entry_post(provider_id=provider_id, kind=EntryKind.ADJUSTMENT, amount_cents=amount_cents, key=key,
                           actor=actor, memo=reason)
    return entry
