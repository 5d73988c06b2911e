"""The lock order (hotlead.core.locks): a transaction that takes its row locks out of order is reported."""
from __future__ import annotations

import pytest
from django.db import transaction

from hotlead.billing.lock_objects import account_lock
from hotlead.core.locks import LOCK_ORDER, LOCK_RANK, LockOrderViolation, lock_taken
from hotlead.leads.lock_objects import lead_lock
from hotlead.levels.lock_objects import subscriptions_to_match_lock
from tests.factories.leads import LeadFactory
from tests.factories.providers import ProviderFactory

pytestmark = pytest.mark.django_db


def test_the_documented_order_is_written_once_lead_before_accounts_before_the_cursor():
    assert LOCK_RANK["provider"] < LOCK_RANK["lead"] < LOCK_RANK["assignment"] < LOCK_RANK["bad_lead_report"] \
        < LOCK_RANK["account"] == LOCK_RANK["subscription"] < LOCK_RANK["level_cursor"]
    assert len(LOCK_RANK) == sum(len(names) for names in LOCK_ORDER)  # no name on two lines


def test_a_lead_locked_after_an_account_is_reported():
    # given
    provider, lead = ProviderFactory(), LeadFactory()
    # when / then
    with pytest.raises(LockOrderViolation, match="lead is ranked before locks already held"), transaction.atomic():
        account_lock(provider_id=provider.pk)
        lead_lock(pk=lead.pk)


def test_the_same_locks_in_order_pass_and_each_transaction_starts_afresh():
    provider, lead = ProviderFactory(), LeadFactory()
    with transaction.atomic():
        lead_lock(pk=lead.pk)
        account_lock(provider_id=provider.pk)
        lead_lock(pk=lead.pk)  # a row already held: taking it again never waits
    with transaction.atomic():  # a new transaction: the account held before is gone
        lead_lock(pk=lead.pk)


def test_accounts_go_up_in_provider_id_and_subscriptions_only_under_their_account():
    with pytest.raises(LockOrderViolation, match="ascending keys"), transaction.atomic():
        lock_taken("account", 9)
        lock_taken("account", 3)
    with pytest.raises(LockOrderViolation, match="without its account lock"), transaction.atomic():
        lock_taken("account", 3)
        lock_taken("subscription", 4)
    provider = ProviderFactory()
    with transaction.atomic():
        account_lock(provider_id=provider.pk)
        subscriptions_to_match_lock(provider_id=provider.pk, balance_cents=0)


def test_a_lock_that_never_waits_is_recorded_but_not_refused():
    with transaction.atomic():
        lock_taken("level_cursor", 1)
        lock_taken("lead", waits=False)  # SKIP LOCKED: it cannot wait in a circle
        lock_taken("level_cursor", 1)


def test_a_lock_missing_from_the_order_is_refused(settings):
    with pytest.raises(LockOrderViolation, match="not in hotlead.core.locks.LOCK_ORDER"), transaction.atomic():
        lock_taken("mystery_row")
    settings.LOCK_ORDER_CHECK = False  # production: the check costs one settings read
    with transaction.atomic():
        lock_taken("account", 9)
        lock_taken("lead", 1)
