"""Funds and subscriptions: inactive when the balance is below the price, active again when covered; e-mails once."""
from __future__ import annotations

import pytest
from django.core import mail

from hotlead.billing.services.ledger import adjustment_post, charge_post, deposit_post, refund_post
from hotlead.levels.enums import SubscriptionStatus
from hotlead.levels.models import CompetitionLevel
from hotlead.levels.services.funds import subscriptions_funds_sweep, subscriptions_sync_funds
from hotlead.levels.tasks import subscriptions_funds_sweep as sweep_job
from hotlead.notifications.models import EmailEvent
from tests.factories.accounts import StaffFactory
from tests.factories.levels import LevelFactory, SubscriptionFactory
from tests.factories.providers import ProviderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def levels(db):
    return (LevelFactory(slug="exclusive", name="Exclusive", rank=1, price_cents=12_000),
            LevelFactory(slug="shared", name="Shared", rank=2, price_cents=2_500))


def _statuses(*subscriptions) -> list[str]:
    for subscription in subscriptions:
        subscription.refresh_from_db()
    return [s.status for s in subscriptions]


def test_a_charge_then_sync_deactivates_only_what_the_balance_no_longer_covers(levels,
                                                                               django_capture_on_commit_callbacks):
    exclusive, shared = levels
    provider = ProviderFactory(balance_cents=15_000, low_balance_threshold_cents=0)
    high, low = SubscriptionFactory(provider=provider, level=exclusive), SubscriptionFactory(provider=provider,
                                                                                              level=shared)
    with django_capture_on_commit_callbacks(execute=True):
        charge_post(provider_id=provider.pk, amount_cents=5_000, key="c1")
        result = subscriptions_sync_funds(provider_id=provider.pk)
    assert (result.deactivated, result.reactivated) == ([high.pk], [])
    assert _statuses(high, low) == ["inactive_funds", "active"]
    assert len(mail.outbox) == 1
    assert "Exclusive" in mail.outbox[0].subject and "$120.00" in mail.outbox[0].body
    # syncing again changes nothing and sends nothing
    with django_capture_on_commit_callbacks(execute=True):
        again = subscriptions_sync_funds(provider_id=provider.pk)
    assert (again.deactivated, again.reactivated) == ([], [])
    assert EmailEvent.objects.filter(template="subscription_deactivated").count() == 1


def test_a_deposit_reactivates_at_once_with_one_email(levels, django_capture_on_commit_callbacks):
    exclusive, shared = levels
    provider = ProviderFactory(balance_cents=1_000)
    high, low = SubscriptionFactory(provider=provider, level=exclusive, status="inactive_funds"), \
        SubscriptionFactory(provider=provider, level=shared, status="inactive_funds")
    with django_capture_on_commit_callbacks(execute=True):
        deposit_post(provider_id=provider.pk, amount_cents=1_500, key="d")   # 25.00: covers shared only
    assert _statuses(high, low) == ["inactive_funds", "active"]
    with django_capture_on_commit_callbacks(execute=True):
        deposit_post(provider_id=provider.pk, amount_cents=9_500, key="d2")  # 120.00: covers both
    assert _statuses(high, low) == ["active", "active"]
    reactivated = EmailEvent.objects.filter(template="subscription_reactivated").order_by("pk")
    assert [e.context["levels"] for e in reactivated] == [
        [{"name": "Shared", "price": "$25.00"}], [{"name": "Exclusive", "price": "$120.00"}]]


def test_paused_and_cancelled_subscriptions_are_left_alone(levels):
    exclusive, _ = levels
    provider = ProviderFactory(balance_cents=20_000)
    paused = SubscriptionFactory(provider=provider, level=exclusive, status="paused")
    charge_post(provider_id=provider.pk, amount_cents=19_000, key="c")
    subscriptions_sync_funds(provider_id=provider.pk)
    assert _statuses(paused) == ["paused"]


def test_refunds_and_adjustments_resync(levels):
    exclusive, _ = levels
    provider = ProviderFactory(balance_cents=12_000)
    subscription = SubscriptionFactory(provider=provider, level=exclusive)
    charge = charge_post(provider_id=provider.pk, amount_cents=12_000, key="c")
    subscriptions_sync_funds(provider_id=provider.pk)
    assert _statuses(subscription) == ["inactive_funds"]
    refund_post(charge=charge)
    assert _statuses(subscription) == ["active"]
    adjustment_post(provider_id=provider.pk, amount_cents=-1, key="a", actor=StaffFactory(), reason="fee")
    assert _statuses(subscription) == ["inactive_funds"]


def test_the_sweep_fixes_what_no_ledger_entry_touched(levels, django_capture_on_commit_callbacks):
    exclusive, shared = levels
    rich, poor = ProviderFactory(balance_cents=50_000), ProviderFactory(balance_cents=3_000)
    stale_inactive = SubscriptionFactory(provider=rich, level=exclusive, status="inactive_funds")
    stale_active = SubscriptionFactory(provider=poor, level=exclusive)
    fine = SubscriptionFactory(provider=poor, level=shared)
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep_job() == 2
    assert _statuses(stale_inactive, stale_active, fine) == ["active", "inactive_funds", "active"]
    assert subscriptions_funds_sweep() == 0
    assert sorted(EmailEvent.objects.values_list("template", flat=True)) == \
        ["subscription_deactivated", "subscription_reactivated"]


def test_a_price_rise_is_picked_up_by_the_sweep(levels):
    _, shared = levels
    provider = ProviderFactory(balance_cents=3_000)
    subscription = SubscriptionFactory(provider=provider, level=shared)
    CompetitionLevel.objects.filter(pk=shared.pk).update(price_cents=3_001)
    subscriptions_funds_sweep()
    assert _statuses(subscription) == [SubscriptionStatus.INACTIVE_FUNDS]


def test_the_sweep_and_the_reconciliation_are_scheduled():
    from django.utils import timezone

    from hotlead.ops.schedules import SCHEDULES, schedule_fields

    entries = {entry["name"]: entry for entry in SCHEDULES}
    sweep, reconcile = entries["levels.funds_sweep"], entries["billing.reconcile"]
    assert (sweep["func"], sweep["minutes"]) == ("hotlead.levels.tasks.subscriptions_funds_sweep", 5)
    assert (reconcile["func"], reconcile["every"], reconcile["at"]) == \
        ("hotlead.billing.tasks.balances_reconcile_nightly", "daily", "03:00")
    assert schedule_fields(sweep, now=timezone.now())["minutes"] == 5
    assert schedule_fields(reconcile, now=timezone.now())["next_run"].strftime("%H:%M") == "03:00"


@pytest.mark.django_db(transaction=True)
def test_sync_does_not_wait_for_a_subscription_another_transaction_holds():
    import threading

    from django.db import connection, transaction

    level = LevelFactory(slug="held", rank=1, price_cents=5_000)
    provider = ProviderFactory(balance_cents=1_000)
    held = SubscriptionFactory(provider=provider, level=level, status="inactive_funds")
    locked, release = threading.Event(), threading.Event()

    def hold_the_row():
        try:
            with transaction.atomic():
                list(type(held).objects.select_for_update().filter(pk=held.pk))
                locked.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_row)
    holder.start()
    try:
        assert locked.wait(timeout=30)
        # when a deposit covers the level while the engine holds the row: the deposit completes at once
        deposit_post(provider_id=provider.pk, amount_cents=4_000, key="d")
        assert _statuses(held) == ["inactive_funds"]
    finally:
        release.set()
        holder.join()
    # then the backstop sweep catches it
    subscriptions_funds_sweep()
    assert _statuses(held) == ["active"]


def test_a_sync_that_changes_nothing_costs_two_queries(levels, django_assert_num_queries):
    exclusive, shared = levels
    provider = ProviderFactory(balance_cents=50_000)
    SubscriptionFactory(provider=provider, level=exclusive)
    SubscriptionFactory(provider=provider, level=shared)
    with django_assert_num_queries(2):
        result = subscriptions_sync_funds(provider_id=provider.pk)
    assert (result.deactivated, result.reactivated) == ([], [])
