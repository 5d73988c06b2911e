"""The console's provider page: every section in one place with a link to its full list, Suspend or Reinstate
(never both), Clear flag (audited), plain labels, and a query count that does not grow with the history."""
from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from hotlead.core.exceptions import Conflict, ValidationFailed
from hotlead.core.models import AuditLog
from hotlead.distribution.models import DistributionRun
from hotlead.providers.models import Provider
from hotlead.providers.services import provider_flag_clear, provider_suspend
from hotlead.refunds.models import BadLeadReport
from tests.factories.distribution import make_assignment
from tests.factories.leads import LeadFactory
from tests.factories.levels import LevelFactory
from tests.factories.providers import ProviderFactory

pytestmark = pytest.mark.django_db


def url_of(provider) -> str:
    return f"/admin/providers/provider/{provider.pk}/change/"


def section(html: str, name: str) -> str:
    match = re.search(rf'<section class="hl-section" data-section="{name}">(.*?)</section>', html, flags=re.S)
    assert match, f"no {name} section"
    return match.group(1)


@pytest.fixture
def busy_provider(staff_user):
    provider = ProviderFactory(company_name="Bay Roofing Co.", balance_cents=10_000, low_balance_threshold_cents=5000)
    level = LevelFactory(name="Exclusive", price_cents=12_000)
    sold = make_assignment(provider=provider, level=level)
    make_assignment(provider=provider, level=level, status="rejected", reject_reason="Wrong trade")
    BadLeadReport.objects.create(assignment=sold, provider=provider, reason="other", details="no answer")
    Provider.objects.filter(pk=provider.pk).update(flagged=True, flagged_reason="Return rate 25% over 20%")
    missed = LeadFactory(status="unsold")
    DistributionRun.objects.create(lead=missed, trigger="approval", outcome="unsold", trace={"levels": [
        {"level": level.slug, "considered": 1, "eligible": 0, "skipped": {"balance": 1}, "chosen": [],
         "skipped_providers": {"balance": [provider.pk]}}]})
    provider_suspend(provider_id=provider.pk, reason="Unpaid invoice", actor=staff_user)
    provider.refresh_from_db()
    return {"provider": provider, "sold": sold, "missed": missed}


def test_the_provider_page_shows_every_section_with_a_link_to_its_full_list(staff_console, busy_provider):
    provider = busy_provider["provider"]

    html = staff_console.get(url_of(provider)).content.decode()

    assert re.search(r"<title>\s*Bay Roofing Co\.", html)  # titled by what it shows
    balance = section(html, "balance")
    assert "$10,000.00" not in balance and ">$100.00<" in balance.replace(" ", "")  # 100.00 deposit - 2 sales funded
    assert "Record deposit" in balance and "Adjust" in balance and "Low-balance alert below $50.00" in balance
    assert "Deposit" in section(html, "ledger") and "+$120.00" in section(html, "ledger")
    assert "Exclusive" in section(html, "subscriptions")
    purchases = section(html, "purchases")
    assert "Purchases (2)" in purchases and "Rejected" in purchases and "$120.00" in purchases
    assert "Bad-lead reports (1)" in section(html, "reports")
    flags = section(html, "flags")
    assert "Return rate 25% over 20%" in flags and "Clear flag" in flags
    assert "50.0% (1 of the last 2 leads)" in flags  # return rate: 1 report on 2 leads; reject rate: 1 of 2
    assert flags.count("50.0% (1 of the last 2 leads)") == 2
    missed = section(html, "missed")
    assert "1 lead passed this provider by" in missed and str(busy_provider["missed"].public_id)[:8] in missed
    audit = section(html, "audit")
    assert "Provider: suspended" in audit
    links = re.findall(r'<a class="hl-link" href="([^"]+)">(?:Account|Full|All)', html)
    assert len(links) == 8
    for link in links:
        assert staff_console.get(link.replace("&amp;", "&")).status_code == 200, link


def test_plain_labels_on_the_provider_page(staff_console, busy_provider):
    html = staff_console.get(url_of(busy_provider["provider"])).content.decode()
    assert "Low balance threshold cents" not in html and "Low-balance alert below" in html
    assert "+00:00" not in html  # dates in words, in the site's time zone
    assert "Suspended" in html and ">suspended<" not in html


def test_suspend_or_reinstate_never_both(staff_console, busy_provider):
    provider = busy_provider["provider"]
    suspended = staff_console.get(url_of(provider)).content.decode()
    assert "/reinstate/" in suspended and "/suspend/" not in suspended

    active = ProviderFactory()
    html = staff_console.get(url_of(active)).content.decode()
    assert "/suspend/" in html and "/reinstate/" not in html and "/clear-flag/" not in html


def test_clear_flag_needs_a_note_redirects_and_is_audited(staff_console, staff_user, busy_provider):
    provider = busy_provider["provider"]
    clear = f"/admin/providers/provider/{provider.pk}/clear-flag/"

    page = staff_console.get(clear)
    assert page.status_code == 200 and "Return rate 25% over 20%" in page.content.decode()
    missing = staff_console.post(clear, {"confirm": "yes", "note": "  "})
    assert missing.status_code == 200 and "Say why the flag is cleared." in missing.content.decode()
    assert Provider.objects.get(pk=provider.pk).flagged

    done = staff_console.post(clear, {"confirm": "yes", "note": "Checked the reports: the leads were fine."})

    assert done.status_code == 302 and done["Location"] == url_of(provider)
    provider.refresh_from_db()
    assert not provider.flagged and provider.flagged_reason == ""
    entry = AuditLog.objects.get(action="provider.flag_cleared")
    assert entry.actor == staff_user and entry.changes["note"] == "Checked the reports: the leads were fine."
    assert entry.changes["flag_reason"] == "Return rate 25% over 20%"
    after = staff_console.get(url_of(provider)).content.decode()
    assert "The flag on Bay Roofing Co. is cleared." in after and "/clear-flag/" not in after


def test_provider_flag_clear_service_rules(staff_user):
    provider = ProviderFactory()
    with pytest.raises(Conflict):
        provider_flag_clear(provider_id=provider.pk, actor=staff_user, note="nothing to clear")
    Provider.objects.filter(pk=provider.pk).update(flagged=True, flagged_reason="x")
    with pytest.raises(ValidationFailed):
        provider_flag_clear(provider_id=provider.pk, actor=staff_user, note="")
    assert not AuditLog.objects.filter(action="provider.flag_cleared").exists()


def test_the_provider_page_costs_the_same_queries_with_a_long_history(staff_console, busy_provider,
                                                                       django_assert_max_num_queries):
    provider = busy_provider["provider"]
    with CaptureQueriesContext(connection) as short:
        staff_console.get(url_of(provider))
    level = LevelFactory(name="Shared", price_cents=2_500)
    for _ in range(15):
        sold = make_assignment(provider=provider, level=level)
        BadLeadReport.objects.create(assignment=sold, provider=provider, reason="other")
    with django_assert_max_num_queries(45), CaptureQueriesContext(connection) as long:
        staff_console.get(url_of(provider))
    assert len(long.captured_queries) <= len(short.captured_queries) + 3  # + the totals past one page of rows
