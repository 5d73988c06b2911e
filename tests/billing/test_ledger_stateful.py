"""A model of the ledger in memory, driven by hypothesis, must agree with the database after every step.

Deposits, charges, refunds and adjustments draw their keys from one small shared pool, so retries with
a repeated key (same movement → same entry, no money), reused keys (other movement → Conflict), overdraws
(InsufficientBalance) and double refunds all happen often. Some movements fail after they were written
(the caller's transaction raises): they must leave nothing behind, not even their key.
"""
from __future__ import annotations

import pytest
from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from hotlead.billing.models import Account, LedgerEntry
from hotlead.billing.services.ledger import adjustment_post, charge_post, deposit_post, refund_post
from hotlead.core.exceptions import Conflict, InsufficientBalance
from tests.factories.accounts import StaffFactory
from tests.factories.providers import ProviderFactory

KEYS = st.sampled_from([f"k{i}" for i in range(6)])
AMOUNTS = st.integers(min_value=1, max_value=3000)


class _CallerFailed(Exception):
    """The caller's transaction fails after the movement was written."""


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.provider = ProviderFactory(low_balance_threshold_cents=0)
        self.staff = StaffFactory()
        self.prefix = f"p{self.provider.pk}:"
        self.balance = 0
        self.used: dict[str, tuple[str, int, int]] = {}   # key -> (kind, signed amount, entry id)
        self.charges: list[int] = []                       # entry ids of charges
        self.refunded: dict[int, int] = {}                 # charge id -> refund entry id

    def _move(self, kind: str, signed: int, key: str, call) -> None:
        full_key = self.prefix + key
        if key in self.used:
            first_kind, first_amount, first_id = self.used[key]
            if (first_kind, first_amount) == (kind, signed):
                assert call(full_key).pk == first_id                  # a retry: the first entry, no money
            else:
                with pytest.raises(Conflict):
                    call(full_key)
            return
        if self.balance + signed < 0:
            with pytest.raises(InsufficientBalance):
                call(full_key)
            return
        entry = call(full_key)
        assert (entry.kind, entry.amount_cents, entry.balance_after_cents) == (kind, signed, self.balance + signed)
        self.balance += signed
        self.used[key] = (kind, signed, entry.pk)
        if kind == "charge":
            self.charges.append(entry.pk)

    @rule(amount=AMOUNTS, key=KEYS)
    def deposit(self, amount, key):
        self._move("deposit", amount, key,
                   lambda k: deposit_post(provider_id=self.provider.pk, amount_cents=amount, key=k))

    @rule(amount=AMOUNTS, key=KEYS)
    def charge(self, amount, key):
        self._move("charge", -amount, key,
                   lambda k: charge_post(provider_id=self.provider.pk, amount_cents=amount, key=k))

    @rule(amount=st.integers(min_value=-3000, max_value=3000).filter(bool), key=KEYS)
    def adjust(self, amount, key):
        self._move("adjustment", amount, key, lambda k: adjustment_post(
            provider_id=self.provider.pk, amount_cents=amount, key=k, actor=self.staff, reason="model"))

    @precondition(lambda self: self.charges)
    @rule(data=st.data())
    def refund(self, data):
        charge_id = data.draw(st.sampled_from(self.charges))
        charge = LedgerEntry.objects.get(pk=charge_id)
        entry = refund_post(charge=charge)
        if charge_id in self.refunded:
            assert entry.pk == self.refunded[charge_id]             # a double refund moves nothing
            return
        assert (entry.kind, entry.amount_cents, entry.refund_of_id) == ("refund", -charge.amount_cents, charge_id)
        self.balance += -charge.amount_cents
        self.refunded[charge_id] = entry.pk

    @rule(amount=AMOUNTS, key=KEYS, kind=st.sampled_from(["deposit", "charge", "adjustment", "refund"]),
          data=st.data())
    def movement_then_the_callers_transaction_fails(self, amount, key, kind, data):
        calls = {
            "deposit": lambda: deposit_post(provider_id=self.provider.pk, amount_cents=amount, key=self.prefix + key),
            "charge": lambda: charge_post(provider_id=self.provider.pk, amount_cents=amount, key=self.prefix + key),
            "adjustment": lambda: adjustment_post(provider_id=self.provider.pk, amount_cents=amount,
                                                  key=self.prefix + key, actor=self.staff, reason="model"),
            "refund": lambda: refund_post(charge=LedgerEntry.objects.get(pk=data.draw(st.sampled_from(self.charges)))),
        }
        if kind == "refund" and not self.charges:
            return
        with pytest.raises((_CallerFailed, Conflict, InsufficientBalance)), transaction.atomic():
            calls[kind]()
            raise _CallerFailed
        # the model is unchanged: the invariant proves the balance, the entries and the keys were all undone

    @invariant()
    def database_agrees_with_the_model(self):
        entries = LedgerEntry.objects.filter(account_id=self.provider.pk).order_by("id")
        amounts = list(entries.values_list("amount_cents", "balance_after_cents"))
        assert Account.objects.get(pk=self.provider.pk).balance_cents == self.balance
        assert sum(a for a, _ in amounts) == self.balance
        assert len(amounts) == len(self.used) + len(self.refunded)
        running = 0
        for amount, after in amounts:                                # each entry's balance_after is the running sum
            running += amount
            assert after == running >= 0


@pytest.mark.django_db
def test_the_ledger_matches_a_model_under_random_operations():
    run_state_machine_as_test(LedgerMachine, settings=settings(
        max_examples=25, stateful_step_count=25, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    ))
