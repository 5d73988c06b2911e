"""Money staff record (deposits received, adjustments) and the payment provider's webhook (SPEC §5)."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from hotlead.billing.enums import EntryKind, PaymentMethod, PaymentStatus
from hotlead.billing.lock_objects import payment_lock
from hotlead.billing.metrics import deposit_counted, operation_timed
from hotlead.billing.models import LedgerEntry, Payment
from hotlead.billing.services.ledger import _adjustment, _deposit
from hotlead.core.exceptions import Conflict, NotFound, ValidationFailed
from hotlead.core.money import money_format
from hotlead.core.services import audit_record
from hotlead.notifications.services import email_queue
from hotlead.providers.models import Provider

if TYPE_CHECKING:
    from hotlead.accounts.models import User

logger = logging.getLogger("hotlead.billing")


# A typo guard: one deposit or adjustment above this is refused (10,000,000.00 in the currency).
MAX_MOVEMENT_CENTS = 1_000_000_000


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


def _payment_credit(payment: Payment, *, key: str, actor: User | None = None, source: str) -> LedgerEntry:
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
def payment_record(*, provider_id: int, amount_cents: int, method: str, reference: str = "", actor: User | None,
                   idempotency_key: str = "") -> Payment:
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
        audit_record(action="deposit.recorded", actor=actor, obj=payment, changes={
            "provider_id": provider_id, "amount_cents": amount_cents, "method": method, "reference": reference,
            "ledger_entry_id": entry.pk, "balance_after_cents": entry.balance_after_cents,
        })
    return payment


def _payment_for_retry(entry: LedgerEntry, *, amount_cents: int, provider_id: int) -> Payment:
    if entry.account_id != provider_id or entry.amount_cents != amount_cents or entry.kind != EntryKind.DEPOSIT:
        raise Conflict("This idempotency key was already used for a different deposit.")
    return Payment.objects.get(ledger_entry=entry)


@transaction.atomic
def balance_adjust(*, provider_id: int, amount_cents: int, reason: str, actor: User | None, key: str) -> LedgerEntry:
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
        audit_record(action="balance.adjusted", actor=actor, obj=entry, changes={
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
        payment = payment_lock(payment_id=payment.pk)
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
