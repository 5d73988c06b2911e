"""The console's review queue: oldest first, the predicted sale (read without writing), row and bulk decisions with
POST-redirect-GET, the sidebar badge that opens it, and a bounded number of queries."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from admin_ext import navigation
from hotlead.billing.models import LedgerEntry
from hotlead.core.models import AuditLog
from hotlead.distribution.models import Assignment, DistributionRun
from hotlead.leads.models import Lead
from hotlead.levels.models import Subscription
from tests.distribution.conftest import make_level, seller
from tests.factories.leads import CategoryFactory, LeadFactory

pytestmark = pytest.mark.django_db
QUEUE = "/admin/leads/lead/review/"


def _rows(html: str) -> list[str]:
    return re.findall(r'<tr class="hl-row" data-row data-lead-id="(\d+)"', html)


@pytest.fixture
def market():
    roofing = CategoryFactory(slug="roofing", name="Roofing")
    exclusive = make_level("exclusive", rank=1, price_cents=12_000, max_recipients=1)
    bay = seller(exclusive, categories=[roofing])
    bay.provider.company_name = "Bay Roofing Co."
    bay.provider.save(update_fields=["company_name"])
    return {"roofing": roofing, "exclusive": exclusive, "subscription": bay}


def test_queue_lists_leads_waiting_for_review_oldest_first_with_what_they_would_sell_for(staff_console, market):
    now = timezone.now()
    newer = LeadFactory(category=market["roofing"], budget_cents=500_000, name="Nina Newer")
    older = LeadFactory(category=market["roofing"], possible_duplicate=True, postal_code="10001", name="Olly Older")
    Lead.objects.filter(pk=older.pk).update(created_at=now - timedelta(hours=5, minutes=3))
    LeadFactory(status="approved", name="Abe Approved")

    html = staff_console.get(QUEUE).content.decode()

    assert _rows(html) == [str(older.pk), str(newer.pk)]
    assert "2 leads waiting for review" in html and "Abe Approved" not in html
    row_old, row_new = html.split('data-row data-lead-id="')[1:3]
    assert "5 h 3 min" in row_old and "Possible duplicate" in row_old and "10001" in row_old
    assert "No buyer now (1 outside their service areas)" in row_old  # 10001 is not Bay Roofing's area
    assert "$5,000.00" in row_new and "Roofing" in row_new and "94110" in row_new
    assert "Exclusive: 1 buyer at $120.00" in row_new


def test_the_prediction_writes_nothing(staff_console, market):
    LeadFactory(category=market["roofing"])
    before = (Assignment.objects.count(), DistributionRun.objects.count(), LedgerEntry.objects.count(),
              AuditLog.objects.count())

    assert "Exclusive: 1 buyer at $120.00" in staff_console.get(QUEUE).content.decode()

    assert (Assignment.objects.count(), DistributionRun.objects.count(), LedgerEntry.objects.count(),
            AuditLog.objects.count()) == before
    assert Subscription.objects.get(pk=market["subscription"].pk).last_served_at is None
    assert Lead.objects.get().status == "pending_review"


def test_approve_from_a_row_redirects_back_to_the_queue_and_sells(staff_console, market,
                                                                   django_capture_on_commit_callbacks):
    lead = LeadFactory(category=market["roofing"])

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_console.post(QUEUE, {"decision": "approve", "ids": [lead.pk]})

    assert response.status_code == 302 and response["Location"] == QUEUE  # POST-redirect-GET
    lead.refresh_from_db()
    assert lead.status == "distributed" and lead.buyers_count == 1
    page = staff_console.get(QUEUE).content.decode()
    assert f"Approved 1 lead: {str(lead.public_id)[:8]}." in page and "Nothing waits for review" in page


def test_reject_needs_a_reason_and_a_bad_post_still_redirects(staff_console, market):
    lead = LeadFactory(category=market["roofing"])

    response = staff_console.post(QUEUE, {"decision": "reject", "ids": [lead.pk]})
    assert response.status_code == 302
    assert "Choose a reason to reject." in staff_console.get(QUEUE).content.decode()
    assert Lead.objects.get(pk=lead.pk).status == "pending_review"

    for junk in ({"decision": "approve", "ids": ["abc"]}, {"decision": "nope", "ids": [lead.pk]}, {}):
        assert staff_console.post(QUEUE, junk).status_code == 302
    assert Lead.objects.get(pk=lead.pk).status == "pending_review"

    staff_console.post(QUEUE, {"decision": "reject", "ids": [lead.pk], "reason": "spam"})
    lead.refresh_from_db()
    assert lead.status == "rejected" and lead.reject_reason == "spam"
    assert "Rejected (spam) 1 lead" in staff_console.get(QUEUE).content.decode()


def test_bulk_approve_and_reject(staff_console, market):
    a, b, c = (LeadFactory(category=market["roofing"]) for _ in range(3))
    gone = LeadFactory(status="rejected")

    staff_console.post(QUEUE, {"decision": "reject", "ids": [a.pk, b.pk], "reason": "test"})
    staff_console.post(QUEUE, {"decision": "approve", "ids": [c.pk, gone.pk]})

    assert [Lead.objects.get(pk=x.pk).status for x in (a, b, c, gone)] == [
        "rejected", "rejected", "approved", "rejected"]
    page = staff_console.get(QUEUE).content.decode()
    assert "Approved 1 lead" in page and "Not changed" in page


def test_the_sidebar_badge_opens_the_queue(rf, staff_user):
    LeadFactory.create_batch(4)
    request = rf.get("/admin/")
    request.user = staff_user
    items = {item["title"]: item for group in navigation.sidebar(request) for item in group["items"]}
    assert items["Review queue"]["link"] == QUEUE and items["Review queue"]["badge"] == "4"
    assert "badge" not in items["Leads"]


def test_queue_queries_are_bounded_by_the_page_not_the_backlog(staff_console, market, django_assert_max_num_queries):
    make_level("shared", rank=2, price_cents=2_500, max_recipients=5)
    LeadFactory.create_batch(30, category=market["roofing"], postal_code="10001")  # no buyer: every level is read
    # session, user, device + count, page, market, then one eligibility read per lead and level (20 × 2)
    with django_assert_max_num_queries(12 + 20 * 2):
        html = staff_console.get(QUEUE).content.decode()
    assert len(_rows(html)) == 20 and "Next 20" in html
