"""Real concurrent transactions on PostgreSQL: no lost update, no overdraft, one entry per key."""
from __future__ import annotations

import threading

import pytest
from django.db import connection

from hotlead.billing.models import LedgerEntry
from hotlead.billing.selectors import balance_cents, ledger_sum
from hotlead.billing.services.ledger import charge_post, deposit_post, refund_post
from hotlead.core.exceptions import InsufficientBalance
from tests.factories.providers import ProviderFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _threads(count: int, work) -> list[BaseException]:
    errors: list[BaseException] = []
    barrier = threading.Barrier(count)

    def run(n: int) -> None:
        try:
            barrier.wait()
            work(n)
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_32_threads_x_100_one_cent_charges_against_1000_cents():
    # given a balance of 1,000 cents and no low-balance e-mails in the way
    provider = ProviderFactory(balance_cents=1000, low_balance_threshold_cents=0)
    succeeded, refused = [], []
    lock = threading.Lock()

    def work(n: int) -> None:
        ok = no = 0
        for i in range(100):
            try:
                charge_post(provider_id=provider.pk, amount_cents=1, key=f"charge:{n}:{i}")
                ok += 1
            except InsufficientBalance:
                no += 1
        with lock:
            succeeded.append(ok)
            refused.append(no)

    # when
    errors = _threads(32, work)
    # then exactly 1,000 succeed and the balance is 0, never negative, equal to the ledger
    assert errors == []
    assert sum(succeeded) == 1000 and sum(refused) == 2200
    assert balance_cents(provider_id=provider.pk) == 0 == ledger_sum(provider_id=provider.pk)
    charges = LedgerEntry.objects.filter(account_id=provider.pk, kind="charge")
    assert charges.count() == 1000
    # every charge saw a distinct balance: 999, 998, …, 0 — each exactly once, none below zero
    assert sorted(charges.values_list("balance_after_cents", flat=True)) == list(range(1000))


def test_the_same_charge_key_from_two_threads_makes_one_entry():
    provider = ProviderFactory(balance_cents=500, low_balance_threshold_cents=0)
    returned: list[int] = []

    def work(n: int) -> None:
        returned.append(charge_post(provider_id=provider.pk, amount_cents=200, key="charge:lead-1:p").pk)

    for _ in range(3):
        returned.clear()
        assert _threads(2, work) == []
        assert len(set(returned)) == 1
    assert LedgerEntry.objects.filter(idempotency_key="charge:lead-1:p").count() == 1
    assert balance_cents(provider_id=provider.pk) == 300 == ledger_sum(provider_id=provider.pk)


def test_the_same_key_when_the_twin_empties_the_balance_returns_the_first_entry():
    provider = ProviderFactory(balance_cents=200, low_balance_threshold_cents=0)
    returned: list[int] = []
    assert _threads(4, lambda n: returned.append(
        charge_post(provider_id=provider.pk, amount_cents=200, key="all-of-it").pk)) == []
    assert len(returned) == 4 and len(set(returned)) == 1
    assert balance_cents(provider_id=provider.pk) == 0 == ledger_sum(provider_id=provider.pk)


def test_concurrent_refunds_of_one_charge_refund_once():
    provider = ProviderFactory(balance_cents=500, low_balance_threshold_cents=0)
    charge = charge_post(provider_id=provider.pk, amount_cents=300, key="c")
    returned: list[int] = []
    assert _threads(4, lambda n: returned.append(refund_post(charge=charge).pk)) == []
    assert len(set(returned)) == 1
    assert LedgerEntry.objects.filter(refund_of=charge).count() == 1
    assert balance_cents(provider_id=provider.pk) == 500 == ledger_sum(provider_id=provider.pk)


def test_deposits_and_charges_interleaved_lose_nothing():
    provider = ProviderFactory(balance_cents=0, low_balance_threshold_cents=0)

    def work(n: int) -> None:
        for i in range(20):
            if n % 2:
                deposit_post(provider_id=provider.pk, amount_cents=5, key=f"d:{n}:{i}")
            else:
                try:
                    charge_post(provider_id=provider.pk, amount_cents=3, key=f"c:{n}:{i}")
                except InsufficientBalance:
                    pass

    assert _threads(8, work) == []
    assert balance_cents(provider_id=provider.pk) == ledger_sum(provider_id=provider.pk) >= 0
    deposits = LedgerEntry.objects.filter(account_id=provider.pk, kind="deposit").count()
    charges = LedgerEntry.objects.filter(account_id=provider.pk, kind="charge").count()
    assert deposits == 80
    assert balance_cents(provider_id=provider.pk) == deposits * 5 - charges * 3


def test_concurrent_charges_crossing_the_low_balance_threshold_alert_once():
    from hotlead.notifications.models import EmailEvent

    # given 100.00 and an alert below 50.00
    provider = ProviderFactory(balance_cents=10_000, low_balance_threshold_cents=5_000)
    # when eight threads each charge 10.00 at once (the 6th, 7th and 8th charges are all below 50.00)
    assert _threads(8, lambda n: charge_post(provider_id=provider.pk, amount_cents=1_000, key=f"c{n}")) == []
    # then exactly one low-balance e-mail is queued for the crossing
    assert EmailEvent.objects.filter(template="low_balance").count() == 1
    assert balance_cents(provider_id=provider.pk) == 2_000 == ledger_sum(provider_id=provider.pk)
