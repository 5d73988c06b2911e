"""Plain words across the console: deposits visible however recorded, model names in the audit log, readable
titles for every detail page, money as currency."""
from __future__ import annotations

import re

import pytest

from hotlead.billing.models import LedgerEntry
from hotlead.billing.services.ledger import deposit_post
from hotlead.billing.services.payments import payment_record
from hotlead.core.services import audit_record
from hotlead.distribution.models import DistributionRun
from tests.factories.leads import LeadFactory
from tests.factories.providers import ProviderFactory

pytestmark = pytest.mark.django_db


def test_every_deposit_in_the_ledger_is_under_deposits_however_it_was_recorded(staff_console, staff_user):
    provider = ProviderFactory(company_name="Bay Roofing Co.")
    deposit_post(provider_id=provider.pk, amount_cents=100_000, key="import:1", memo="opening balance")
    payment_record(provider_id=provider.pk, amount_cents=25_050, method="bank_transfer", reference="TR-77",
                   actor=staff_user, idempotency_key="console:abc")

    html = staff_console.get("/admin/billing/deposit/").content.decode()

    assert "$1,000.00" in html and "Posted to the ledger (opening balance)" in html
    assert "$250.50" in html and "Bank transfer" in html and "TR-77" in html and staff_user.email in html
    assert html.count("Bay Roofing Co.") >= 2
    assert "0 deposits" not in html


def test_the_audit_log_names_models_and_actions_in_words(staff_console, staff_user):
    lead = LeadFactory()
    audit_record(action="lead.approve", actor=staff_user, obj=lead)

    html = staff_console.get("/admin/core/auditlog/").content.decode()

    assert f"Lead #{lead.pk}" in html and "Lead: approve" in html
    assert ">leads.lead<" not in html
    assert staff_console.get("/admin/core/auditlog/?object_type__exact=leads.lead").status_code == 200


@pytest.mark.parametrize("make, expected", [
    (lambda: DistributionRun.objects.create(lead=LeadFactory(), trigger="manual", outcome="unsold"),
     r"Distribution run #\d+ \(manual \(staff\), \d+ \w+ \d{4} \d\d:\d\d\)"),
    (lambda: LedgerEntry.objects.get(pk=deposit_post(provider_id=ProviderFactory().pk, amount_cents=100_000,
                                                     key="k").pk),
     r"Deposit of \+\$1,000\.00 \(entry #\d+\)"),
])
def test_detail_pages_are_titled_by_what_they_show(staff_console, make, expected):
    obj = make()
    opts = obj._meta
    html = staff_console.get(f"/admin/{opts.app_label}/{opts.model_name}/{obj.pk}/change/").content.decode()
    title = re.search(r"<title>(.*?)</title>", html, flags=re.S).group(1)
    assert re.search(expected, title), title
    assert "object (" not in title


def test_status_badges_on_lists_read_as_words_not_codes(staff_console):
    """Seen as a new user would: badges on the ledger and run lists showed raw codes ("deposit", "unsold")."""
    run = DistributionRun.objects.create(lead=LeadFactory(), trigger="manual", outcome="unsold")
    deposit_post(provider_id=ProviderFactory().pk, amount_cents=100_000, key="badge:1")

    runs = staff_console.get("/admin/distribution/distributionrun/").content.decode()
    ledger = staff_console.get("/admin/billing/ledgerentry/").content.decode()

    assert run.outcome == "unsold"
    assert re.search(r">\s*Unsold\s*<", runs) and not re.search(r">\s*unsold\s*<", runs)
    assert re.search(r">\s*Deposit\s*<", ledger) and not re.search(r">\s*deposit\s*<", ledger)
