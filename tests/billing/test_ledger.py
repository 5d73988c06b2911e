"""The ledger's primitives: each movement once per key, never overdrawn, balance == ledger sum."""
from __future__ import annotations

import pytest
from django.core import mail

from hotlead.billing.enums import EntryKind
from hotlead.billing.models import Account, LedgerEntry
from hotlead.billing.selectors import balance_cents, ledger_sum
from hotlead.billing.services.ledger import adjustment_post, charge_post, deposit_post, refund_post
from hotlead.core.exceptions import Conflict, InsufficientBalance, NotFound, ValidationFailed
from hotlead.notifications.models import EmailEvent
from tests.factories.accounts import StaffFactory
from tests.factories.providers import ProviderFactory

pytestmark = pytest.mark.django_db


def _state(provider) -> tuple[int, int, int]:
    return balance_cents(provider_id=provider.pk), ledger_sum(provider_id=provider.pk), \
        LedgerEntry.objects.filter(account_id=provider.pk).count()


def test_deposit_credits_and_records_balance_after():
    # given
    provider = ProviderFactory()
    staff = StaffFactory()
    # when
    entry = deposit_post(provider_id=provider.pk, amount_cents=2500, key="dep-1", actor=staff, memo="wire",
                         reference="REF-9", related_type="billing.payment", related_id=7)
    # then
    entry.refresh_from_db()
    assert (entry.kind, entry.amount_cents, entry.balance_after_cents) == (EntryKind.DEPOSIT, 2500, 2500)
    assert (entry.actor_id, entry.memo, entry.reference, entry.related_type, entry.related_id) == \
        (staff.pk, "wire", "REF-9", "billing.payment", "7")
    assert _state(provider) == (2500, 2500, 1)


def test_a_retried_deposit_returns_the_first_entry_and_moves_no_money():
    provider = ProviderFactory()
    first = deposit_post(provider_id=provider.pk, amount_cents=1000, key="dep-retry")
    again = deposit_post(provider_id=provider.pk, amount_cents=1000, key="dep-retry")
    assert again.pk == first.pk
    assert _state(provider) == (1000, 1000, 1)


def test_a_key_reused_for_another_movement_is_a_conflict_and_moves_nothing():
    provider = ProviderFactory(balance_cents=5000)
    deposit_post(provider_id=provider.pk, amount_cents=1000, key="k")
    with pytest.raises(Conflict):
        deposit_post(provider_id=provider.pk, amount_cents=999, key="k")
    with pytest.raises(Conflict):
        charge_post(provider_id=provider.pk, amount_cents=1000, key="k")
    other = ProviderFactory()
    with pytest.raises(Conflict):
        deposit_post(provider_id=other.pk, amount_cents=1000, key="k")
    assert _state(provider) == (6000, 6000, 2)
    assert _state(other) == (0, 0, 0)


def test_charge_debits_and_refuses_to_overdraw():
    provider = ProviderFactory(balance_cents=100)
    entry = charge_post(provider_id=provider.pk, amount_cents=60, key="c1", related_type="leads.lead", related_id=3)
    assert (entry.amount_cents, entry.balance_after_cents) == (-60, 40)
    with pytest.raises(InsufficientBalance) as excinfo:
        charge_post(provider_id=provider.pk, amount_cents=41, key="c2")
    assert excinfo.value.details == {"balance_cents": 40, "needed_cents": 41}
    assert _state(provider) == (40, 40, 2)
    assert not LedgerEntry.objects.filter(idempotency_key="c2").exists()


def test_a_charge_of_exactly_the_balance_leaves_zero():
    provider = ProviderFactory(balance_cents=100)
    charge_post(provider_id=provider.pk, amount_cents=100, key="all")
    assert _state(provider) == (0, 0, 2)


def test_a_retried_charge_is_not_refused_when_the_first_emptied_the_balance():
    provider = ProviderFactory(balance_cents=100)
    first = charge_post(provider_id=provider.pk, amount_cents=100, key="lead:1:p")
    assert charge_post(provider_id=provider.pk, amount_cents=100, key="lead:1:p").pk == first.pk
    assert _state(provider) == (0, 0, 2)


@pytest.mark.parametrize("amount", [0, -5, True, 1.5])
def test_charges_and_deposits_must_be_positive_integers(amount):
    provider = ProviderFactory(balance_cents=100)
    with pytest.raises(ValidationFailed):
        charge_post(provider_id=provider.pk, amount_cents=amount, key="x")
    with pytest.raises(ValidationFailed):
        deposit_post(provider_id=provider.pk, amount_cents=amount, key="y")
    assert _state(provider) == (100, 100, 1)


def test_a_key_is_required():
    provider = ProviderFactory()
    with pytest.raises(ValidationFailed):
        deposit_post(provider_id=provider.pk, amount_cents=1, key="")
    with pytest.raises(ValidationFailed):
        deposit_post(provider_id=provider.pk, amount_cents=1, key="k" * 201)
    assert _state(provider) == (0, 0, 0)


def test_a_deposit_to_a_provider_without_an_account_creates_it():
    provider = ProviderFactory()
    Account.objects.filter(pk=provider.pk).delete()
    deposit_post(provider_id=provider.pk, amount_cents=300, key="first")
    assert _state(provider) == (300, 300, 1)


def test_a_deposit_to_an_unknown_provider_is_not_found():
    with pytest.raises(NotFound):
        deposit_post(provider_id=999_999, amount_cents=300, key="nobody")
    assert not LedgerEntry.objects.exists()


def test_refund_returns_exactly_the_charge_once():
    provider = ProviderFactory(balance_cents=500)
    charge = charge_post(provider_id=provider.pk, amount_cents=200, key="c")
    refund = refund_post(charge=charge, memo="bad lead")
    assert (refund.kind, refund.amount_cents, refund.balance_after_cents, refund.refund_of_id) == \
        (EntryKind.REFUND, 200, 500, charge.pk)
    # a second refund of the same charge returns the first and moves nothing
    assert refund_post(charge=charge).pk == refund.pk
    assert _state(provider) == (500, 500, 3)


def test_only_a_charge_can_be_refunded():
    provider = ProviderFactory(balance_cents=500)
    deposit = LedgerEntry.objects.get(account_id=provider.pk)
    with pytest.raises(Conflict):
        refund_post(charge=deposit)
    assert _state(provider) == (500, 500, 1)


def test_a_refund_mirrors_the_stored_charge_not_the_callers_copy_of_it():
    provider = ProviderFactory(balance_cents=500)
    charge = charge_post(provider_id=provider.pk, amount_cents=200, key="c")
    other = ProviderFactory()
    charge.amount_cents, charge.account_id = -100_000, other.pk   # a tampered or stale instance
    refund = refund_post(charge=charge)
    assert (refund.account_id, refund.amount_cents, refund.balance_after_cents) == (provider.pk, 200, 500)
    assert _state(provider) == (500, 500, 3)
    assert _state(other) == (0, 0, 0)
    with pytest.raises(Conflict):
        refund_post(charge=LedgerEntry(kind=EntryKind.CHARGE, amount_cents=-5, account_id=provider.pk))
    assert _state(provider) == (500, 500, 3)


def test_the_database_refuses_a_second_refund_of_a_charge_under_another_key():
    from hotlead.billing.services.ledger import _entry_post

    provider = ProviderFactory(balance_cents=500)
    charge = charge_post(provider_id=provider.pk, amount_cents=200, key="c")
    refund_post(charge=charge)
    with pytest.raises(Conflict):
        _entry_post(provider_id=provider.pk, kind=EntryKind.REFUND, amount_cents=200, key="sneaky", refund_of=charge)
    assert _state(provider) == (500, 500, 3)


def test_adjustments_need_a_reason_and_cannot_overdraw():
    provider = ProviderFactory(balance_cents=500)
    staff = StaffFactory()
    with pytest.raises(ValidationFailed):
        adjustment_post(provider_id=provider.pk, amount_cents=100, key="a0", actor=staff, reason="  ")
    with pytest.raises(InsufficientBalance):
        adjustment_post(provider_id=provider.pk, amount_cents=-501, key="a1", actor=staff, reason="typo")
    entry = adjustment_post(provider_id=provider.pk, amount_cents=-500, key="a2", actor=staff, reason="goodwill back")
    assert (entry.amount_cents, entry.balance_after_cents, entry.memo, entry.actor_id) == \
        (-500, 0, "goodwill back", staff.pk)
    assert _state(provider) == (0, 0, 2)


def test_low_balance_alert_once_per_crossing(django_capture_on_commit_callbacks):
    # given a provider alerting below 50.00 with 100.00
    provider = ProviderFactory(balance_cents=10_000, low_balance_threshold_cents=5000)
    # when two charges go below the threshold, then a deposit lifts it, then a charge crosses again
    with django_capture_on_commit_callbacks(execute=True):
        charge_post(provider_id=provider.pk, amount_cents=5000, key="c1")   # 50.00: not below
        charge_post(provider_id=provider.pk, amount_cents=100, key="c2")    # 49.00: alert
        charge_post(provider_id=provider.pk, amount_cents=100, key="c3")    # 48.00: already alerted
    # then one alert, and the account remembers it
    assert EmailEvent.objects.filter(template="low_balance").count() == 1
    assert Account.objects.get(pk=provider.pk).low_balance_alerted_at is not None
    assert len(mail.outbox) == 1 and "$48.00" not in mail.outbox[0].subject and "$49.00" in mail.outbox[0].subject
    with django_capture_on_commit_callbacks(execute=True):
        deposit_post(provider_id=provider.pk, amount_cents=200, key="d1")   # 50.00: re-armed
        charge_post(provider_id=provider.pk, amount_cents=1, key="c4")      # 49.99: alert again
    assert EmailEvent.objects.filter(template="low_balance").count() == 2
    assert mail.outbox[1].to == [provider.user.email]


def test_a_deposit_below_the_threshold_does_not_alert():
    provider = ProviderFactory(low_balance_threshold_cents=5000)
    deposit_post(provider_id=provider.pk, amount_cents=100, key="small")
    assert not EmailEvent.objects.filter(template="low_balance").exists()


def test_a_charge_is_a_handful_of_statements(django_assert_max_num_queries):
    # the engine's hot path: key check, savepoint, conditional UPDATE, INSERT, release
    provider = ProviderFactory(balance_cents=10_000, low_balance_threshold_cents=0)
    with django_assert_max_num_queries(5):
        charge_post(provider_id=provider.pk, amount_cents=100, key="hot")
