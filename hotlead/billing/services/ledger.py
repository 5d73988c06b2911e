"""Money (SPEC §5): the ledger's primitives — deposits, charges, refunds, adjustments — every balance moves here.

Invariants, held under concurrency and retries:
- every movement is one append-only LedgerEntry plus one change of the cached balance, in the same
  transaction; the balance is moved by a conditional UPDATE (``… WHERE balance_cents + amount >= 0``)
  that takes the account's row lock, so concurrent movements queue on the row and none is lost;
- the balance never goes below zero (the conditional UPDATE, and a CHECK constraint behind it);
- an idempotency key moves money at most once: a retry (or a concurrent twin) returns the first entry;
  a key reused for a different movement is a Conflict;
- at most one refund per charge (unique ``refund_of``).

Lock order, for everyone who locks more than one row: the provider's account row first, then
that provider's subscriptions.
"""
from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from hotlead.billing.enums import EntryKind
from hotlead.billing.metrics import operation_timed
from hotlead.billing.models import Account, LedgerEntry
from hotlead.billing.signals import funds_changed
from hotlead.core.exceptions import Conflict, InsufficientBalance, NotFound, ValidationFailed
from hotlead.core.money import money_format
from hotlead.notifications.services import email_queue
from hotlead.providers.models import Provider

if TYPE_CHECKING:
    from hotlead.accounts.models import User

MAX_KEY_LENGTH = 200


def account_get_or_create(*, provider_id: int) -> Account:
    account, _ = Account.objects.get_or_create(provider_id=provider_id)
    return account


# --- the primitive ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Moved:
    balance_cents: int
    low_balance_alerted: bool
    threshold_cents: int


class _NotMoved(Exception):
    """The conditional UPDATE matched no row: no account, or the balance does not cover the debit."""


def _balance_move(*, provider_id: int, amount_cents: int) -> _Moved:
    """Move the cached balance by `amount_cents` unless it would go negative; holds the row lock after."""
    account, provider = Account._meta.db_table, Provider._meta.db_table
    sql = (
        f"UPDATE {account} SET balance_cents = balance_cents + %s, updated_at = %s "  # noqa: S608 - table names
        f"WHERE provider_id = %s AND balance_cents + %s >= 0 "
        f"RETURNING balance_cents, low_balance_alerted_at IS NOT NULL, "
        f"(SELECT p.low_balance_threshold_cents FROM {provider} p WHERE p.id = {account}.provider_id)"
    )
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(sql, [amount_cents, now, provider_id, amount_cents])
        row = cursor.fetchone()
    if row is None:
        raise _NotMoved
    return _Moved(balance_cents=int(row[0]), low_balance_alerted=bool(row[1]), threshold_cents=int(row[2] or 0))


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


def _entry_post(
    *,
    provider_id: int,
    kind: str,
    amount_cents: int,
    key: str,
    actor: User | None = None,
    memo: str = "",
    reference: str = "",
    related_type: str = "",
    related_id: str | int = "",
    refund_of: LedgerEntry | None = None,
) -> tuple[LedgerEntry, bool]:
    """Append one entry and move the cached balance. Returns (entry, created).

    Every write happens inside one savepoint, so an error leaves the caller's transaction usable (the
    distribution engine catches InsufficientBalance and goes on with the next provider).
    """
    if not key or len(key) > MAX_KEY_LENGTH:
        raise ValidationFailed.for_field("idempotency_key", f"An idempotency key of 1-{MAX_KEY_LENGTH} characters "
                                                            "is required.")
    if entry := _existing_for_key(key=key, provider_id=provider_id, kind=kind, amount_cents=amount_cents):
        return entry, False
    try:
        # The savepoint undoes the balance move too if the entry cannot be written.
        with transaction.atomic():
            moved = _balance_move(provider_id=provider_id, amount_cents=amount_cents)
            entry = LedgerEntry.objects.create(
                account_id=provider_id,
                kind=kind,
                amount_cents=amount_cents,
                balance_after_cents=moved.balance_cents,
                idempotency_key=key,
                actor=actor if getattr(actor, "pk", None) else None,
                memo=memo[:500],
                reference=reference[:200],
                related_type=related_type,
                related_id=str(related_id or ""),
                refund_of=refund_of,
            )
            _low_balance_track(provider_id=provider_id, amount_cents=amount_cents, moved=moved)
    except IntegrityError:
        # A concurrent twin with the same key committed first (we waited for it on the unique index).
        if existing := _existing_for_key(key=key, provider_id=provider_id, kind=kind, amount_cents=amount_cents):
            return existing, False
        if refund_of is not None and LedgerEntry.objects.filter(refund_of=refund_of).exists():
            raise Conflict("This charge has already been refunded.", details={"charge_id": refund_of.pk})
        raise
    except _NotMoved:
        # We may have queued behind a twin that used the key and then left too little for us.
        if existing := _existing_for_key(key=key, provider_id=provider_id, kind=kind, amount_cents=amount_cents):
            return existing, False
        balance = Account.objects.filter(pk=provider_id).values_list("balance_cents", flat=True).first()
        if balance is None:
            if not Provider.objects.filter(pk=provider_id).exists():
                raise NotFound("No such provider.")
            account_get_or_create(provider_id=provider_id)
            return _entry_post(provider_id=provider_id, kind=kind, amount_cents=amount_cents, key=key, actor=actor,
                               memo=memo, reference=reference, related_type=related_type, related_id=related_id,
                               refund_of=refund_of)
        raise InsufficientBalance(details={"balance_cents": balance, "needed_cents": -amount_cents})
    return entry, True


def _low_balance_track(*, provider_id: int, amount_cents: int, moved: _Moved) -> None:
    """Alert once when a debit leaves the balance under the provider's threshold; re-arm once it is back above."""
    if amount_cents < 0 and not moved.low_balance_alerted and moved.balance_cents < moved.threshold_cents:
        now = timezone.now()
        Account.objects.filter(pk=provider_id).update(low_balance_alerted_at=now)
        low_balance_email(provider_id=provider_id, alerted_at=now)
    elif amount_cents > 0 and moved.low_balance_alerted and moved.balance_cents >= moved.threshold_cents:
        Account.objects.filter(pk=provider_id).update(low_balance_alerted_at=None)


def low_balance_email(*, provider_id: int, alerted_at=None) -> None:
    """The once-per-dip "low balance" e-mail, for an account whose alert was just armed (by `_entry_post`, or by
    the engine's one-round-trip sale, which arms it under the account lock)."""
    provider = Provider.objects.select_related("user", "account").get(pk=provider_id)
    account = provider.account
    alerted_at = alerted_at or account.low_balance_alerted_at or timezone.now()
    currency = account.currency
    email_queue(
        template="low_balance",
        to=provider.user.email,
        related=provider,
        dedupe_key=f"low_balance:{provider_id}:{alerted_at.isoformat()}",
        context={
            "company_name": provider.company_name,
            "balance": money_format(account.balance_cents, currency),
            "threshold": money_format(provider.low_balance_threshold_cents, currency),
            "balance_cents": account.balance_cents,
            "threshold_cents": provider.low_balance_threshold_cents,
        },
    )


def _funds_changed(*, provider_id: int) -> None:
    """A credit may cover inactive subscriptions again; a debit may leave active ones unfunded (levels listens)."""
    funds_changed.send(sender=Account, provider_id=provider_id)


def _transaction_if_none():
    """A transaction when the caller has none; inside the caller's otherwise (no extra savepoint)."""
    return nullcontext() if connection.in_atomic_block else transaction.atomic()


# --- the public primitives (other apps call these; keep the signatures) -------------------------


def _deposit(*, provider_id: int, amount_cents: int, key: str, actor: User | None = None, memo: str = "",
             reference: str = "", related_type: str = "", related_id: str | int = "") -> tuple[LedgerEntry, bool]:
    if isinstance(amount_cents, bool) or not isinstance(amount_cents, int) or amount_cents <= 0:
        raise ValidationFailed.for_field("amount_cents", "A deposit must be a positive amount.")
    with operation_timed("deposit"):
        entry, created = _entry_post(provider_id=provider_id, kind=EntryKind.DEPOSIT, amount_cents=amount_cents,
                                     key=key, actor=actor, memo=memo, reference=reference,
                                     related_type=related_type, related_id=related_id)
        if created:
            _funds_changed(provider_id=provider_id)
    return entry, created


@transaction.atomic
def deposit_post(*, provider_id: int, amount_cents: int, key: str, actor: User | None = None, memo: str = "",
                 reference: str = "", related_type: str = "", related_id: str | int = "") -> LedgerEntry:
    """Credit a provider's account once per key; reactivates subscriptions the balance now covers."""
    entry, _ = _deposit(provider_id=provider_id, amount_cents=amount_cents, key=key, actor=actor, memo=memo,
                        reference=reference, related_type=related_type, related_id=related_id)
    return entry


def charge_post(*, provider_id: int, amount_cents: int, key: str, memo: str = "",
                related_type: str = "", related_id: str | int = "") -> LedgerEntry:
    """Debit a provider once per key; refuse to overdraw (InsufficientBalance).

    The caller (the distribution engine) calls `subscriptions_sync_funds` after its charges.
    """
    if isinstance(amount_cents, bool) or not isinstance(amount_cents, int) or amount_cents <= 0:
        raise ValidationFailed.for_field("amount_cents", "A charge must be a positive amount.")
    # No savepoint of our own on the hot path: _entry_post's single savepoint keeps errors contained.
    with operation_timed("charge"), _transaction_if_none():
        entry, _ = _entry_post(provider_id=provider_id, kind=EntryKind.CHARGE, amount_cents=-amount_cents, key=key,
                               memo=memo, related_type=related_type, related_id=related_id)
    return entry


@transaction.atomic
def refund_post(*, charge: LedgerEntry, actor: User | None = None, memo: str = "", related_type: str = "",
                related_id: str | int = "") -> LedgerEntry:
    """Return exactly the charged amount, at most once per charge: a repeat returns the first refund."""
    # The amount and the account come from the stored entry, never from the caller's (possibly stale or
    # hand-built) instance: a refund can only ever mirror what was really charged.
    charge = LedgerEntry.objects.filter(pk=charge.pk, kind=EntryKind.CHARGE).first() if charge.pk else None
    if charge is None:
        raise Conflict("Only a charge can be refunded.")
    with operation_timed("refund"):
        entry, created = _entry_post(provider_id=charge.account_id, kind=EntryKind.REFUND,
                                     amount_cents=-charge.amount_cents, key=f"refund:{charge.pk}", actor=actor,
                                     memo=memo, related_type=related_type, related_id=related_id, refund_of=charge)
        if created:
            _funds_changed(provider_id=charge.account_id)
    return entry


def _adjustment(*, provider_id: int, amount_cents: int, key: str, actor: User | None,
                reason: str) -> tuple[LedgerEntry, bool]:
    if isinstance(amount_cents, bool) or not isinstance(amount_cents, int) or amount_cents == 0:
        raise ValidationFailed.for_field("amount_cents", "An adjustment cannot be zero.")
    if not (reason or "").strip():
        raise ValidationFailed.for_field("reason", "A reason is required for an adjustment.")
    with operation_timed("adjustment"):
        entry, created = _entry_post(provider_id=provider_id, kind=EntryKind.ADJUSTMENT, amount_cents=amount_cents,
                                     key=key, actor=actor, memo=reason.strip())
        if created:
            _funds_changed(provider_id=provider_id)
    return entry, created


@transaction.atomic
def adjustment_post(*, provider_id: int, amount_cents: int, key: str, actor: User | None, reason: str) -> LedgerEntry:
    """A staff correction (±) with a reason; refused if it would make the balance negative."""
    entry, _ = _adjustment(provider_id=provider_id, amount_cents=amount_cents, key=key, actor=actor, reason=reason)
    return entry
