"""Money (SPEC §5): the ledger's primitives, deposits, adjustments and reconciliation.

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

import logging
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import BigIntegerField, F, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from hotlead.billing.enums import EntryKind, PaymentMethod, PaymentStatus
from hotlead.billing.formatting import money_format
from hotlead.billing.metrics import deposit_counted, operation_timed, reconciliation_correction_counted
from hotlead.billing.models import Account, LedgerEntry, Payment
from hotlead.billing.signals import funds_changed
from hotlead.core.exceptions import Conflict, InsufficientBalance, NotFound, ValidationFailed
from hotlead.core.services import audit_record
from hotlead.notifications.services import email_queue
from hotlead.providers.models import Provider

logger = logging.getLogger("hotlead.billing")

MAX_KEY_LENGTH = 200
# A typo guard: one deposit or adjustment above this is refused (10,000,000.00 in the currency).
MAX_MOVEMENT_CENTS = 1_000_000_000


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
    actor=None,
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


def _deposit(*, provider_id: int, amount_cents: int, key: str, actor=None, memo: str = "", reference: str = "",
             related_type: str = "", related_id: str | int = "") -> tuple[LedgerEntry, bool]:
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
def deposit_post(*, provider_id: int, amount_cents: int, key: str, actor=None, memo: str = "",
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
def refund_post(*, charge: LedgerEntry, actor=None, memo: str = "", related_type: str = "",
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


def _adjustment(*, provider_id: int, amount_cents: int, key: str, actor, reason: str) -> tuple[LedgerEntry, bool]:
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
def adjustment_post(*, provider_id: int, amount_cents: int, key: str, actor, reason: str) -> LedgerEntry:
    """A staff correction (±) with a reason; refused if it would make the balance negative."""
    entry, _ = _adjustment(provider_id=provider_id, amount_cents=amount_cents, key=key, actor=actor, reason=reason)
    return entry


# --- staff actions ----------------------------------------------------------------------------


def _provider_or_404(provider_id: int) -> Provider:
    provider = Provider.objects.select_related("user").filter(pk=provider_id).first()
    if provider is None:
        raise NotFound("No such provider.")
    return provider


def _amount_errors(amount_cents: Any, *, allow_negative: bool = False) -> list[dict[str, str]]:
    if isinstance(amount_cents, bool) or not isinstance(amount_cents, int):
        return [{"field": "amount_cents", "message": "The amount must be an integer number of cents."}]
    if amount_cents == 0 or (amount_cents < 0 and not allow_negative):
        return [{"field": "amount_cents",
                 "message": "The amount cannot be zero." if allow_negative else "The amount must be positive."}]
    if abs(amount_cents) > MAX_MOVEMENT_CENTS:
        return [{"field": "amount_cents", "message": f"The amount must be at most {MAX_MOVEMENT_CENTS} cents."}]
    return []


def _deposit_received_email(payment: Payment, entry: LedgerEntry) -> None:
    currency = settings.HOTLEAD["CURRENCY"]
    email_queue(
        template="deposit_received",
        to=payment.provider.user.email,
        related=payment,
        dedupe_key=f"deposit_received:{payment.pk}",
        context={
            "company_name": payment.provider.company_name,
            "amount": money_format(payment.amount_cents, currency),
            "balance": money_format(entry.balance_after_cents, currency),
            "method": payment.get_method_display(),
            "reference": payment.reference,
        },
    )


class _Duplicate(Exception):
    def __init__(self, entry: LedgerEntry):
        self.entry = entry


def _payment_credit(payment: Payment, *, key: str, actor=None, source: str) -> LedgerEntry:
    """Credit a pending payment (locked by the caller) exactly once and mark it completed."""
    entry, created = _deposit(
        provider_id=payment.provider_id, amount_cents=payment.amount_cents, key=key, actor=actor,
        memo=f"Deposit ({payment.get_method_display()})", reference=payment.reference or (payment.external_id or ""),
        related_type="billing.payment", related_id=payment.pk,
    )
    if not created:
        raise _Duplicate(entry)  # a twin with the same key credited first
    payment.status = PaymentStatus.COMPLETED
    payment.ledger_entry = entry
    payment.completed_at = timezone.now()
    payment.save(update_fields=["status", "ledger_entry", "completed_at", "updated_at"])
    deposit_counted(source=source, amount_cents=payment.amount_cents)
    _deposit_received_email(payment, entry)
    return entry


@transaction.atomic
def payment_record(*, provider_id: int, amount_cents: int, method: str, reference: str = "", actor,
                   idempotency_key: str = "", request=None) -> Payment:
    """Staff record a deposit received outside the payment provider; it is credited at once.

    With an `idempotency_key` (the console's form token, the API's Idempotency-Key header) a repeated
    submission returns the first payment and credits nothing more.
    """
    with operation_timed("payment_record"):
        provider = _provider_or_404(provider_id)
        errors = _amount_errors(amount_cents)
        if method not in PaymentMethod.values:
            errors.append({"field": "method", "message": f"Use one of {', '.join(PaymentMethod.values)}."})
        reference = (reference or "").strip()
        if len(reference) > 200:
            errors.append({"field": "reference", "message": "At most 200 characters."})
        if idempotency_key and (len(idempotency_key) > 100 or "\x00" in idempotency_key):
            errors.append({"field": "idempotency_key", "message": "At most 100 characters, no NUL."})
        if errors:
            raise ValidationFailed(details={"fields": errors})
        key = f"deposit:staff:{provider_id}:{idempotency_key}" if idempotency_key else ""
        if key and (first := LedgerEntry.objects.filter(idempotency_key=key).first()):
            return _payment_for_retry(first, amount_cents=amount_cents, provider_id=provider_id)
        try:
            with transaction.atomic():
                payment = Payment.objects.create(provider=provider, amount_cents=amount_cents, method=method,
                                                 reference=reference, recorded_by=actor,
                                                 status=PaymentStatus.PENDING)
                # raises _Duplicate (and the savepoint drops our payment) if a twin with the key won
                entry = _payment_credit(payment, key=key or f"payment:{payment.pk}", actor=actor, source="staff")
        except _Duplicate as duplicate:
            return _payment_for_retry(duplicate.entry, amount_cents=amount_cents, provider_id=provider_id)
        audit_record(action="deposit.recorded", actor=actor, obj=payment, request=request, changes={
            "provider_id": provider_id, "amount_cents": amount_cents, "method": method, "reference": reference,
            "ledger_entry_id": entry.pk, "balance_after_cents": entry.balance_after_cents,
        })
    return payment


def _payment_for_retry(entry: LedgerEntry, *, amount_cents: int, provider_id: int) -> Payment:
    if entry.account_id != provider_id or entry.amount_cents != amount_cents or entry.kind != EntryKind.DEPOSIT:
        raise Conflict("This idempotency key was already used for a different deposit.")
    return Payment.objects.get(ledger_entry=entry)


@transaction.atomic
def balance_adjust(*, provider_id: int, amount_cents: int, reason: str, actor, key: str, request=None) -> LedgerEntry:
    """A staff correction with a reason, audit-logged; a repeated key adjusts once."""
    _provider_or_404(provider_id)
    errors = _amount_errors(amount_cents, allow_negative=True)
    if not (reason or "").strip():
        errors.append({"field": "reason", "message": "A reason is required for an adjustment."})
    if errors:
        raise ValidationFailed(details={"fields": errors})
    entry, created = _adjustment(provider_id=provider_id, amount_cents=amount_cents, key=key, actor=actor,
                                 reason=reason[:500])
    if created:
        audit_record(action="balance.adjusted", actor=actor, obj=entry, request=request, changes={
            "provider_id": provider_id, "amount_cents": amount_cents, "reason": entry.memo,
            "balance_after_cents": entry.balance_after_cents,
        })
    return entry


# --- the payment provider's webhook ------------------------------------------------------------


@dataclass(frozen=True)
class PaymentEvent:
    """One event from the payment provider, already authenticated (see billing.signatures)."""

    payment_id: str
    status: str
    provider_id: int
    amount_cents: int
    currency: str
    reference: str = ""


@transaction.atomic
def payment_webhook_apply(*, event: PaymentEvent, raw_event: dict) -> tuple[Payment, bool]:
    """Apply an event idempotently on the payment id. Returns (payment, credited by this call).

    pending → completed credits once; pending → failed credits nothing; completed and failed are final
    (a later event for them changes nothing). The same payment id with another provider or amount is
    a Conflict.
    """
    with operation_timed("payment_webhook"):
        errors = _amount_errors(event.amount_cents)
        if event.status not in PaymentStatus.values:
            errors.append({"field": "status", "message": f"Use one of {', '.join(PaymentStatus.values)}."})
        if event.currency != settings.HOTLEAD["CURRENCY"]:
            errors.append({"field": "currency", "message": f"Only {settings.HOTLEAD['CURRENCY']} is accepted."})
        if not Provider.objects.filter(pk=event.provider_id).exists():
            errors.append({"field": "provider_id", "message": "No such provider."})
        if errors:
            raise ValidationFailed(details={"fields": errors})
        payment, _ = Payment.objects.get_or_create(
            external_id=event.payment_id,
            defaults={"provider_id": event.provider_id, "amount_cents": event.amount_cents,
                      "method": PaymentMethod.CARD, "reference": event.reference[:200], "raw_event": raw_event},
        )
        # Deliveries of the same payment queue here, one at a time.
        payment = Payment.objects.select_for_update().select_related("provider__user").get(pk=payment.pk)
        if payment.provider_id != event.provider_id or payment.amount_cents != event.amount_cents:
            raise Conflict("This payment id was already reported for another provider or amount.",
                           details={"payment_id": event.payment_id})
        if payment.status != PaymentStatus.PENDING or event.status == PaymentStatus.PENDING:
            if payment.status != event.status:
                logger.warning("payment event ignored: payment is final",
                               extra={"payment_id": event.payment_id, "status": payment.status,
                                      "event_status": event.status})
            return payment, False
        payment.raw_event = raw_event
        if event.status == PaymentStatus.FAILED:
            payment.status = PaymentStatus.FAILED
            payment.save(update_fields=["status", "raw_event", "updated_at"])
            audit_record(action="deposit.failed", obj=payment,
                         changes={"payment_id": event.payment_id, "amount_cents": event.amount_cents})
            return payment, False
        payment.save(update_fields=["raw_event", "updated_at"])
        entry = _payment_credit(payment, key=f"payment:{payment.pk}", source="webhook")
        audit_record(action="deposit.received", obj=payment, changes={
            "payment_id": event.payment_id, "provider_id": payment.provider_id, "amount_cents": payment.amount_cents,
            "ledger_entry_id": entry.pk, "balance_after_cents": entry.balance_after_cents,
        })
    return payment, True


# --- reconciliation ----------------------------------------------------------------------------


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
    account = Account.objects.select_for_update().get(pk=provider_id)
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
