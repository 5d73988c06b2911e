"""The database itself guards the money: append-only trigger and the non-negative balance CHECK (raw SQL)."""
from __future__ import annotations

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction

from hotlead.billing.models import Account, LedgerEntry
from tests.factories.providers import ProviderFactory

pytestmark = pytest.mark.django_db


def _raw(sql: str, params=None) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_the_trigger_refuses_update_of_an_entry():
    provider = ProviderFactory(balance_cents=100)
    entry = LedgerEntry.objects.get(account_id=provider.pk)
    with pytest.raises(DatabaseError, match="append-only"):
        _raw("UPDATE billing_ledgerentry SET amount_cents = 1000000 WHERE id = %s", [entry.pk])
    entry.refresh_from_db()
    assert entry.amount_cents == 100


def test_the_trigger_refuses_delete_of_an_entry():
    provider = ProviderFactory(balance_cents=100)
    with pytest.raises(DatabaseError, match="append-only"):
        _raw("DELETE FROM billing_ledgerentry WHERE account_id = %s", [provider.pk])
    assert LedgerEntry.objects.filter(account_id=provider.pk).count() == 1


def test_the_orm_cannot_update_or_delete_entries_either():
    provider = ProviderFactory(balance_cents=100)
    with pytest.raises(DatabaseError), transaction.atomic():
        LedgerEntry.objects.filter(account_id=provider.pk).update(memo="changed")
    with pytest.raises(DatabaseError), transaction.atomic():
        LedgerEntry.objects.filter(account_id=provider.pk).delete()
    assert LedgerEntry.objects.get(account_id=provider.pk).memo == ""


def test_the_check_refuses_a_negative_balance():
    provider = ProviderFactory(balance_cents=100)
    with pytest.raises(IntegrityError, match="account_balance_non_negative"):
        _raw("UPDATE billing_account SET balance_cents = -1 WHERE provider_id = %s", [provider.pk])
    assert Account.objects.get(pk=provider.pk).balance_cents == 100


def test_the_check_refuses_an_entry_with_the_wrong_sign():
    provider = ProviderFactory(balance_cents=100)
    with pytest.raises(IntegrityError, match="ledger_amount_sign_matches_kind"):
        _raw("INSERT INTO billing_ledgerentry (account_id, kind, amount_cents, balance_after_cents, idempotency_key,"
             " memo, reference, related_type, related_id, created_at) VALUES (%s, 'charge', 5, 105, 'raw', '', '',"
             " '', '', now())", [provider.pk])
