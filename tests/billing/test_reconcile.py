"""Nightly reconciliation: the cached balance is corrected to the ledger sum, audit-logged and counted."""
from __future__ import annotations

import pytest
from django.db import connection
from prometheus_client import REGISTRY

from hotlead.billing.models import Account
from hotlead.billing.services.reconciliation import balances_reconcile
from hotlead.billing.tasks import balances_reconcile_nightly
from hotlead.core.models import AuditLog
from hotlead.levels.enums import SubscriptionStatus
from tests.factories.levels import LevelFactory, SubscriptionFactory
from tests.factories.providers import ProviderFactory

pytestmark = pytest.mark.django_db


def _corrupt(provider, cents: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("UPDATE billing_account SET balance_cents = %s WHERE provider_id = %s", [cents, provider.pk])


def _corrections_metric() -> float:
    return REGISTRY.get_sample_value("hotlead_billing_reconciliation_corrections_total") or 0.0


def test_a_drifted_balance_is_corrected_to_the_ledger(django_capture_on_commit_callbacks):
    # given two accounts, one drifted above its ledger and one below
    fine, high, low = ProviderFactory(balance_cents=100), ProviderFactory(balance_cents=500), \
        ProviderFactory(balance_cents=700)
    _corrupt(high, 900)
    _corrupt(low, 0)
    before = _corrections_metric()
    # when
    with django_capture_on_commit_callbacks(execute=True):
        corrected = balances_reconcile_nightly()
    # then
    assert corrected == 2
    assert {a.pk: a.balance_cents for a in Account.objects.all()} == {fine.pk: 100, high.pk: 500, low.pk: 700}
    audits = {a.object_id: a.changes for a in AuditLog.objects.filter(action="balance.reconciled")}
    assert audits == {
        str(high.pk): {"cached_cents": 900, "ledger_cents": 500, "difference_cents": -400},
        str(low.pk): {"cached_cents": 0, "ledger_cents": 700, "difference_cents": 700},
    }
    assert _corrections_metric() - before == 2
    # and a second run finds nothing
    assert balances_reconcile() == []


def test_a_correction_resyncs_subscriptions():
    level = LevelFactory(price_cents=500)
    provider = ProviderFactory(balance_cents=1000)
    subscription = SubscriptionFactory(provider=provider, level=level)
    _corrupt(provider, 0)
    subscription.status = SubscriptionStatus.INACTIVE_FUNDS
    subscription.save()
    balances_reconcile()
    subscription.refresh_from_db()
    assert subscription.status == SubscriptionStatus.ACTIVE



@pytest.mark.django_db(transaction=True)
def test_reconciliation_during_charges_corrects_exactly_the_drift_and_loses_no_charge():
    import threading

    from hotlead.billing.selectors import balance_cents, ledger_sum
    from hotlead.billing.services.ledger import charge_post

    # given a funded account, eight threads charging it, and one thread that keeps drifting the cached
    # balance by +500 (raw SQL, relative, so no charge is lost by the drift itself) and reconciling it
    provider = ProviderFactory(balance_cents=10_000, low_balance_threshold_cents=0)
    chargers_done, barrier, lock = threading.Event(), threading.Barrier(9), threading.Lock()
    corrections: list = []
    errors: list[BaseException] = []
    finished = [0]

    def charge(n: int) -> None:
        try:
            barrier.wait()
            for i in range(40):
                charge_post(provider_id=provider.pk, amount_cents=1, key=f"c:{n}:{i}")
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            errors.append(exc)
        finally:
            connection.close()
            with lock:
                finished[0] += 1
                if finished[0] == 8:
                    chargers_done.set()

    def drift_and_reconcile() -> None:
        try:
            barrier.wait()
            while not chargers_done.is_set():
                with connection.cursor() as cursor:
                    cursor.execute("UPDATE billing_account SET balance_cents = balance_cents + 500 "
                                   "WHERE provider_id = %s", [provider.pk])
                corrections.extend(balances_reconcile())
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=charge, args=(n,)) for n in range(8)]
    threads.append(threading.Thread(target=drift_and_reconcile))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then every correction removed exactly the drift (read under the row lock, no charge half-seen), and the
    # corrections never overwrote a concurrent charge: the cached balance is the ledger sum, 320 cents lower
    assert errors == []
    assert corrections and {c.cached_cents - c.ledger_cents for c in corrections} == {500}
    assert balance_cents(provider_id=provider.pk) == 10_000 - 320 == ledger_sum(provider_id=provider.pk)
