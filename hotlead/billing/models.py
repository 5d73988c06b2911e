"""Accounts, the append-only ledger and deposits (SPEC §5)."""
from __future__ import annotations

from django.conf import settings
from django.db import models

from hotlead.billing.enums import EntryKind, PaymentMethod, PaymentStatus
from hotlead.core.money import money_format


class Account(models.Model):
    """A provider's prepaid account. balance_cents is a cache of the ledger sum, never negative."""

    provider = models.OneToOneField(
        "providers.Provider", primary_key=True, on_delete=models.PROTECT, related_name="account"
    )
    balance_cents = models.BigIntegerField(default=0)
    currency = models.CharField(max_length=3, default="USD")
    low_balance_alerted_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(balance_cents__gte=0), name="account_balance_non_negative"),
        ]

    def __str__(self) -> str:
        return f"Account of {self.provider} ({money_format(self.balance_cents, self.currency)})"


class LedgerEntry(models.Model):
    """One immutable money movement. UPDATE and DELETE are refused by a database trigger."""

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField(max_length=20, choices=EntryKind.choices, db_index=True)
    amount_cents = models.BigIntegerField(help_text="Signed: + credits, − debits")
    balance_after_cents = models.BigIntegerField()
    idempotency_key = models.CharField(max_length=200, unique=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    memo = models.CharField(max_length=500, blank=True)
    reference = models.CharField(max_length=200, blank=True)
    related_type = models.CharField(max_length=100, blank=True)
    related_id = models.CharField(max_length=64, blank=True)
    # A refund names the charge it returns; at most one refund per charge (unique).
    refund_of = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="refunded_by"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "ledger entries"
        indexes = [models.Index(fields=["account", "-created_at", "-id"]),
                   # the console's ledger, newest first across every account, without a sort
                   models.Index(fields=["-created_at", "-id"], name="ledger_newest_first_idx")]
        constraints = [
            models.CheckConstraint(condition=models.Q(balance_after_cents__gte=0), name="ledger_balance_after_gte_0"),
            models.CheckConstraint(
                condition=(
                    models.Q(kind="deposit", amount_cents__gt=0)
                    | models.Q(kind="charge", amount_cents__lt=0)
                    | models.Q(kind="refund", amount_cents__gt=0)
                    | (models.Q(kind="adjustment") & ~models.Q(amount_cents=0))
                ),
                name="ledger_amount_sign_matches_kind",
            ),
            models.CheckConstraint(
                condition=models.Q(refund_of__isnull=True) | models.Q(kind="refund"),
                name="ledger_refund_of_only_on_refunds",
            ),
        ]

    def __str__(self) -> str:
        amount = money_format(self.amount_cents)
        return f"{self.get_kind_display()} of {'+' if self.amount_cents > 0 else ''}{amount} (entry #{self.pk})"


class Payment(models.Model):
    """A deposit: recorded by staff or reported by the payment provider's webhook."""

    provider = models.ForeignKey("providers.Provider", on_delete=models.PROTECT, related_name="payments")
    amount_cents = models.PositiveBigIntegerField()
    method = models.CharField(max_length=20, choices=PaymentMethod.choices)
    reference = models.CharField(max_length=200, blank=True)
    external_id = models.CharField(max_length=200, null=True, blank=True, unique=True,
                                   help_text="The payment provider's payment id")
    status = models.CharField(max_length=20, choices=PaymentStatus.choices, default=PaymentStatus.PENDING)
    ledger_entry = models.OneToOneField(
        LedgerEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="payment"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    raw_event = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Deposit #{self.pk} of {money_format(self.amount_cents)} ({self.get_status_display().lower()})"


class DepositManager(models.Manager):
    def get_queryset(self):
        return super().get_queryset().filter(kind=EntryKind.DEPOSIT)


class Deposit(LedgerEntry):
    """Every deposit in the ledger, whichever way it was recorded (console, API, payment webhook, seed):
    the console's Deposits list. A view of the ledger, not a table of its own."""

    objects = DepositManager()

    class Meta:
        proxy = True
        verbose_name = "deposit"
        verbose_name_plural = "deposits"
        ordering = ["-created_at", "-id"]
