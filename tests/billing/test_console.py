"""The console's money pages: account with its ledger, deposits and adjustments reviewed, confirmed, audit-logged."""
from __future__ import annotations

import pytest

from hotlead.billing.models import LedgerEntry, Payment
from hotlead.billing.selectors import balance_cents, ledger_sum
from hotlead.billing.services.ledger import charge_post
from hotlead.core.models import AuditLog
from tests.factories.providers import ProviderFactory

pytestmark = pytest.mark.django_db


def _url(provider, what: str = "") -> str:
    return f"/admin/billing/account/{provider.pk}/" + (f"{what}/" if what else "change/")


def test_account_page_shows_the_ledger_read_only(staff_console):
    provider = ProviderFactory(balance_cents=5000)
    charge_post(provider_id=provider.pk, amount_cents=1234, key="c", memo="lead sold")
    page = staff_console.get(_url(provider))
    assert page.status_code == 200
    html = page.content.decode()
    assert "$37.66" in html and "-$12.34" in html and "lead sold" in html
    assert "Record a deposit" in html and "Adjust the balance" in html
    assert staff_console.get("/admin/billing/ledgerentry/").status_code == 200
    assert staff_console.get("/admin/billing/payment/").status_code == 200
    assert staff_console.get("/admin/billing/account/").status_code == 200
    # there is no way to add, change or delete an entry
    assert staff_console.get("/admin/billing/ledgerentry/add/").status_code == 403
    entry = LedgerEntry.objects.filter(account_id=provider.pk).first()
    assert staff_console.post(f"/admin/billing/ledgerentry/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    assert LedgerEntry.objects.filter(pk=entry.pk).exists()


def test_a_deposit_is_reviewed_then_confirmed_once(staff_console, staff_user):
    provider = ProviderFactory(balance_cents=1000)
    form = staff_console.get(_url(provider, "deposit"))
    token = form.context["form"].initial["token"]
    data = {"amount": "250.00", "method": "bank_transfer", "reference": "WIRE-77", "token": token}
    # review: nothing moves yet
    review = staff_console.post(_url(provider, "deposit"), data)
    assert review.status_code == 200 and review.context["confirming"] is True
    assert "Deposit $250.00 by bank transfer (reference WIRE-77)" in review.content.decode()
    assert "$260.00" in review.content.decode()
    assert balance_cents(provider_id=provider.pk) == 1000 and not Payment.objects.exists()
    # confirm (twice, as a double click would): credited once
    done = staff_console.post(_url(provider, "deposit"), {**data, "confirm": "yes"})
    again = staff_console.post(_url(provider, "deposit"), {**data, "confirm": "yes"})
    assert done.status_code == again.status_code == 302
    assert balance_cents(provider_id=provider.pk) == 26_000 == ledger_sum(provider_id=provider.pk)
    payment = Payment.objects.get()
    assert (payment.amount_cents, payment.method, payment.reference, payment.recorded_by_id) == \
        (25_000, "bank_transfer", "WIRE-77", staff_user.pk)
    assert AuditLog.objects.filter(action="deposit.recorded", actor=staff_user).count() == 1


def test_a_bad_deposit_form_moves_nothing(staff_console):
    provider = ProviderFactory()
    response = staff_console.post(_url(provider, "deposit"), {"amount": "-5", "method": "bank_transfer",
                                                              "token": "t", "confirm": "yes"})
    assert response.status_code == 200 and response.context["form"].errors["amount"]
    assert not LedgerEntry.objects.filter(account_id=provider.pk).exists()


def test_an_adjustment_needs_a_reason_and_is_audited(staff_console, staff_user):
    provider = ProviderFactory(balance_cents=1000)
    no_reason = staff_console.post(_url(provider, "adjust"), {"amount": "-2.50", "reason": " ", "token": "t1",
                                                              "confirm": "yes"})
    assert no_reason.status_code == 200 and no_reason.context["form"].errors["reason"]
    data = {"amount": "-2.50", "reason": "Duplicate deposit correction", "token": "t2"}
    review = staff_console.post(_url(provider, "adjust"), data)
    assert review.context["confirming"] is True and "$7.50" in review.content.decode()
    assert staff_console.post(_url(provider, "adjust"), {**data, "confirm": "yes"}).status_code == 302
    entry = LedgerEntry.objects.get(kind="adjustment")
    assert (entry.amount_cents, entry.memo, entry.actor_id, entry.balance_after_cents) == \
        (-250, "Duplicate deposit correction", staff_user.pk, 750)
    audit = AuditLog.objects.get(action="balance.adjusted")
    assert (audit.actor_id, audit.changes["amount_cents"], audit.changes["reason"]) == \
        (staff_user.pk, -250, "Duplicate deposit correction")


def test_an_adjustment_below_zero_is_refused_at_review(staff_console):
    provider = ProviderFactory(balance_cents=100)
    review = staff_console.post(_url(provider, "adjust"), {"amount": "-1.01", "reason": "x", "token": "t"})
    assert review.context["confirming"] is False and "cannot go below zero" in review.context["error"]
    forced = staff_console.post(_url(provider, "adjust"), {"amount": "-1.01", "reason": "x", "token": "t",
                                                           "confirm": "yes"})
    assert forced.status_code == 200 and "does not cover" in forced.context["error"]
    assert balance_cents(provider_id=provider.pk) == 100 == ledger_sum(provider_id=provider.pk)


def test_unknown_account_is_404(staff_console):
    assert staff_console.get("/admin/billing/account/999999/deposit/").status_code == 404


def test_ledger_export_is_audited(staff_console, staff_user):
    ProviderFactory(balance_cents=700)
    response = staff_console.post("/admin/billing/ledgerentry/export/", {"format": "0", "resource": "0",
                                                                         "export_items": []})
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Disposition"].startswith("attachment")
    # human headers and money in dollars, as the report exports (issue 12)
    assert b"Amount ($)" in response.content and b",deposit,7.00,7.00," in response.content
    audit = AuditLog.objects.get(action="ledgerentry.export")
    assert (audit.actor_id, audit.changes["rows"]) == (staff_user.pk, 1)
