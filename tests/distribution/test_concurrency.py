"""SPEC §4.3 under real concurrency on PostgreSQL: exactly once, no overdraft, hard caps."""
from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.test import override_settings
from django.utils import timezone

from hotlead.billing.enums import EntryKind
from hotlead.billing.models import Account, LedgerEntry
from hotlead.billing.selectors import balance_cents, ledger_sum
from hotlead.distribution.models import Assignment, DistributionRun
from hotlead.distribution.services.engine import lead_distribute
from hotlead.leads.enums import LeadStatus
from hotlead.leads.models import Lead
from hotlead.levels.models import Subscription
from hotlead.levels.services.subscriptions import subscription_update
from tests.distribution.conftest import approved_lead, make_level, seller
from tests.factories.accounts import StaffFactory
from tests.factories.distribution import make_assignment
from tests.factories.leads import CategoryFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _in_threads(calls: list[Callable[[], object]]) -> list[object]:
    """Start every call at the same moment, each on its own connection; return results or exceptions."""
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def work(i: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[i] = calls[i]()
        except Exception as exc:  # noqa: BLE001 - surfaced by the assertions
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    assert not [r for r in results if isinstance(r, Exception)], results
    return results


def _distribute(lead_id: int) -> Callable[[], object]:
    return lambda: lead_distribute(lead_id=lead_id, trigger="approval")


def test_the_same_lead_on_two_workers_sells_once():
    # given a lead three providers can buy at a level of three
    CategoryFactory(slug="roofing", name="Roofing")
    level = make_level("semi-exclusive", rank=1, price_cents=6_000, max_recipients=3)
    buyers = [seller(level, balance=6_000) for _ in range(3)]
    lead = approved_lead()
    # when two workers run it at once
    results = _in_threads([_distribute(lead.pk), _distribute(lead.pk)])
    # then one run sold it, the other found nothing to do
    assert sorted(r is None for r in results) == [False, True]
    assert Assignment.objects.filter(lead=lead).count() == 3
    assert LedgerEntry.objects.filter(kind=EntryKind.CHARGE).count() == 3
    assert DistributionRun.objects.filter(lead=lead).count() == 1
    lead.refresh_from_db()
    assert (lead.status, lead.buyers_count) == (LeadStatus.DISTRIBUTED, 3)
    for sub in buyers:
        assert balance_cents(provider_id=sub.provider_id) == ledger_sum(provider_id=sub.provider_id) == 0


def test_many_leads_against_a_balance_that_covers_two_charge_exactly_twice():
    # given one provider whose balance covers two exclusive leads, and six leads
    CategoryFactory(slug="roofing", name="Roofing")
    level = make_level("exclusive", rank=1, price_cents=12_000, max_recipients=1)
    only = seller(level, balance=24_000)
    leads = [approved_lead() for _ in range(6)]
    # when all six are distributed at once
    _in_threads([_distribute(lead.pk) for lead in leads])
    # then exactly two were sold and charged; the balance is zero, never negative; the others are unsold
    assert Assignment.objects.count() == 2
    assert LedgerEntry.objects.filter(kind=EntryKind.CHARGE).count() == 2
    assert balance_cents(provider_id=only.provider_id) == ledger_sum(provider_id=only.provider_id) == 0
    statuses = sorted(Lead.objects.values_list("status", flat=True))
    assert statuses == [LeadStatus.DISTRIBUTED] * 2 + [LeadStatus.UNSOLD] * 4


@pytest.mark.parametrize("cap", [{"daily_cap": 2}, {"weekly_cap": 2}, {"monthly_cap": 2},
                                 {"monthly_budget_cents": 5_000}])
def test_caps_hold_under_concurrency(cap):
    # given a well-funded provider whose subscription allows two leads (2,500 each)
    CategoryFactory(slug="roofing", name="Roofing")
    level = make_level("shared", rank=1, price_cents=2_500, max_recipients=5)
    capped = seller(level, balance=1_000_000, **cap)
    leads = [approved_lead() for _ in range(6)]
    # when six leads are distributed at once
    _in_threads([_distribute(lead.pk) for lead in leads])
    # then the cap was never crossed
    assert Assignment.objects.filter(subscription=capped).count() == 2
    assert LedgerEntry.objects.filter(kind=EntryKind.CHARGE).count() == 2
    assert balance_cents(provider_id=capped.provider_id) == 1_000_000 - 5_000
    runs = DistributionRun.objects.filter(outcome=LeadStatus.UNSOLD)
    assert runs.count() == 4
    assert all(run.trace["levels"][0]["skipped"] == {"cap": 1} for run in runs)


def test_a_provider_lost_to_a_concurrent_sale_is_replaced_by_the_next_eligible():
    # given the first in line has room for one more lead, and a second provider stands behind it
    CategoryFactory(slug="roofing", name="Roofing")
    level = make_level("exclusive", rank=1, price_cents=12_000, max_recipients=1)
    first = seller(level, balance=1_000_000, daily_cap=1)
    second = seller(level, balance=1_000_000)
    leads = [approved_lead(), approved_lead()]
    # when both leads are distributed at once (both may see the first provider eligible)
    _in_threads([_distribute(lead.pk) for lead in leads])
    # then both leads are sold: one to each provider, and the cap held
    assert sorted(Assignment.objects.values_list("provider_id", flat=True)) == sorted(
        [first.provider_id, second.provider_id])
    assert set(Lead.objects.values_list("status", flat=True)) == {LeadStatus.DISTRIBUTED}


@pytest.mark.parametrize(("providers", "max_recipients"), [(2, 1), (4, 1), (6, 2)])
def test_leads_sold_at_the_same_moment_take_turns_like_leads_sold_one_after_another(providers, max_recipients):
    # given identical providers at one level, and as many leads at once as it takes to serve each of them once
    CategoryFactory(slug="roofing", name="Roofing")
    level = make_level("level", rank=1, price_cents=2_500, max_recipients=max_recipients)
    subscriptions = [seller(level, balance=1_000_000) for _ in range(providers)]
    leads = [approved_lead() for _ in range(providers // max_recipients)]
    # when they are all distributed at once (each run reads the same serving order before any sale commits)
    _in_threads([_distribute(lead.pk) for lead in leads])
    # then every provider got exactly one lead (SPEC §4.2: counts differ by at most one), none got two
    counts = Counter(Assignment.objects.values_list("provider_id", flat=True))
    assert counts == Counter({s.provider_id: 1 for s in subscriptions})
    assert set(Lead.objects.values_list("status", flat=True)) == {LeadStatus.DISTRIBUTED}
    for subscription in subscriptions:
        assert balance_cents(provider_id=subscription.provider_id) == 1_000_000 - 2_500
    # and each run's trace still adds up and names its own buyers
    for run in DistributionRun.objects.all():
        (level_trace,) = run.trace["levels"]
        assert level_trace["considered"] == providers
        assert level_trace["eligible"] + sum(level_trace["skipped"].values()) == providers
        assert sorted(level_trace["chosen"]) == sorted(
            Assignment.objects.filter(lead_id=run.lead_id).values_list("provider_id", flat=True))


def _blocked_by(waiter_pid: int, holder_pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::int = ANY (pg_blocking_pids(%s::int))", [holder_pid, waiter_pid])
        return cursor.fetchone()[0]


def _wait_until_blocked(*, waiter: threading.Thread, waiter_pid: int, holder_pid: int, timeout: float = 10) -> None:
    """Poll the lock table until `waiter_pid` waits on a lock `holder_pid` holds (the waiter must still be running)."""
    deadline = time.monotonic() + timeout
    while not _blocked_by(waiter_pid, holder_pid):
        assert waiter.is_alive(), "the run finished without waiting for the lock"
        assert time.monotonic() < deadline, "the run never waited for the lock"
        waiter.join(timeout=0.005)  # a short poll interval, cut short if the run ends


class _Run(threading.Thread):
    """lead_distribute on its own connection; publishes its backend pid before it starts."""

    def __init__(self, lead_id: int) -> None:
        super().__init__()
        self.lead_id = lead_id
        self.pid: int | None = None
        self.started_run = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                self.pid = cursor.fetchone()[0]
            self.started_run.set()
            lead_distribute(lead_id=self.lead_id, trigger="approval")
        except BaseException as exc:  # noqa: BLE001 - surfaced by the test
            self.error = exc
        finally:
            self.started_run.set()
            connection.close()


@pytest.mark.parametrize("in_database", [True, False], ids=["sql-sale", "python-engine"])
def test_a_cap_lowered_while_a_run_waits_for_the_account_lock_holds(in_database):
    # given X, first in line (served before Y), capped at two a day with one sold today, and Y, uncapped
    CategoryFactory(slug="roofing", name="Roofing")
    level = make_level("exclusive", rank=1, price_cents=2_500, max_recipients=1)
    x = seller(level, balance=100_000, daily_cap=2)
    earlier = make_assignment(provider=x.provider, subscription=x)
    Subscription.objects.filter(pk=x.pk).update(last_served_at=earlier.assigned_at)
    y = seller(level, balance=100_000)
    Subscription.objects.filter(pk=y.pk).update(last_served_at=timezone.now())
    staff = StaffFactory()
    lead = approved_lead()
    engine = override_settings(HOTLEAD={**settings.HOTLEAD, "DISTRIBUTION_IN_DATABASE": in_database})
    with engine:
        run = _Run(lead.pk)
        # when staff's edit holds X's account (as subscription_update does) while the run reads the level,
        # finds X eligible and waits for X's account
        with transaction.atomic():
            Account.objects.select_for_update().get(provider_id=x.provider_id)
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                staff_pid = cursor.fetchone()[0]
            run.start()
            assert run.started_run.wait(timeout=10) and run.pid is not None, run.error
            _wait_until_blocked(waiter=run, waiter_pid=run.pid, holder_pid=staff_pid)
            # and lowers X's daily cap to the one lead X already has, without touching the balance
            subscription_update(subscription_id=x.pk, changes={"daily_cap": 1}, actor=staff)
        run.join(timeout=30)
    assert not run.is_alive()
    assert run.error is None, run.error
    # then the re-check under the lock saw the new cap: X is passed over and Y, next in line, buys the lead
    assert list(Assignment.objects.filter(lead=lead).values_list("provider_id", flat=True)) == [y.provider_id]
    assert Assignment.objects.filter(subscription=x).count() == 1
    stored = DistributionRun.objects.get(lead=lead)
    (level_trace,) = stored.trace["levels"]
    assert level_trace["chosen"] == [y.provider_id]
    assert level_trace["skipped"] == {"cap": 1}
    assert level_trace["skipped_providers"] == {"cap": [x.provider_id]}
    assert level_trace["eligible"] == 1
    lead.refresh_from_db()
    assert (lead.status, lead.buyers_count) == (LeadStatus.DISTRIBUTED, 1)
    # and the money: X untouched since its earlier sale, Y charged once
    assert LedgerEntry.objects.filter(kind=EntryKind.CHARGE, related_id=str(lead.pk)).count() == 1
    assert LedgerEntry.objects.filter(kind=EntryKind.CHARGE, account_id=x.provider_id).count() == 1
    assert balance_cents(provider_id=x.provider_id) == ledger_sum(provider_id=x.provider_id) == 100_000
    assert balance_cents(provider_id=y.provider_id) == ledger_sum(provider_id=y.provider_id) == 100_000 - 2_500
    x.refresh_from_db()
    assert x.daily_cap == 1
