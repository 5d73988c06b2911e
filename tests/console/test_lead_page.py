"""The console's lead page: four tabs, status and trace in plain words, only the actions the state allows, one
consistent snapshot of the lead (no "approved, 0 buyers" beside a sale), and the list in plain words."""
from __future__ import annotations

import re
import threading

import pytest
from django.db import connection

from admin_ext.admin.leads import LeadAdmin
from hotlead.distribution.services.engine import lead_distribute
from hotlead.leads.models import Lead
from tests.distribution.conftest import approved_lead, make_level, seller
from tests.factories.leads import CategoryFactory, LeadFactory

pytestmark = pytest.mark.django_db


def page(client, lead) -> str:
    response = client.get(f"/admin/leads/lead/{lead.pk}/change/")
    assert response.status_code == 200
    return response.content.decode()


def detail_actions(html: str, lead) -> set[str]:
    return set(re.findall(rf'href="/admin/leads/lead/{lead.pk}/([a-z-]+)/"', html)) - {"change", "history"}


@pytest.fixture
def sold_lead(db):
    roofing = CategoryFactory(slug="roofing", name="Roofing")
    exclusive = make_level("exclusive", rank=1, price_cents=12_000, max_recipients=1)
    first = seller(exclusive, categories=[roofing])
    first.provider.company_name = "Bay Roofing Co."
    first.provider.save(update_fields=["company_name"])
    seller(exclusive, categories=[roofing], areas=("10001",))  # another area: skipped
    lead = approved_lead(category=roofing)
    lead_distribute(lead_id=lead.pk, trigger="approval")
    lead.refresh_from_db()
    assert lead.status == "distributed"
    return lead


def test_the_lead_page_has_four_tabs_and_tells_the_sale_in_plain_words(staff_console, sold_lead):
    html = page(staff_console, sold_lead)

    for tab in ("Request", "Contact", "Sales &amp; trace", "History"):
        assert re.search(rf">\s*{tab}\s*<", html), tab
    assert "Sold to Bay Roofing Co. at Exclusive, $120.00 — it had never had a lead at this level." in html
    assert "after approval · sold to 1 buyer" in html
    assert "Sold to 1 buyer (Bay Roofing Co.) for $120.00." in html
    assert "rotation after provider #" not in html.split("Engine trace")[0]  # the plain part has no internals
    assert ">Distributed<" in html and "distributed</" not in html.replace("Distributed<", "")


def test_the_second_sale_says_it_had_waited_longest(staff_console, sold_lead):
    again = approved_lead(category=sold_lead.category)
    lead_distribute(lead_id=again.pk, trigger="approval")
    assert "Sold to Bay Roofing Co. at Exclusive, $120.00 — it had waited longest." in page(staff_console, again)


def test_an_unsold_lead_says_why(staff_console, db):
    roofing = CategoryFactory(slug="roofing", name="Roofing")
    exclusive = make_level("exclusive", rank=1, price_cents=12_000, max_recipients=1)
    seller(exclusive, categories=[roofing], balance=1_000)  # short of funds
    lead = approved_lead(category=roofing)
    lead_distribute(lead_id=lead.pk, trigger="approval")
    assert "No sale at Exclusive: of 1 subscription, 1 short of funds." in page(staff_console, lead)


def test_only_the_actions_the_state_allows(staff_console, sold_lead):
    waiting = LeadFactory(status="pending_review")
    assert detail_actions(page(staff_console, waiting), waiting) == {"approve", "reject"}
    unsold = LeadFactory(status="unsold")
    assert detail_actions(page(staff_console, unsold), unsold) == {"distribute", "mark-fraud"}
    assert detail_actions(page(staff_console, sold_lead), sold_lead) == {"mark-fraud"}
    rejected = LeadFactory(status="rejected")
    assert detail_actions(page(staff_console, rejected), rejected) == set()
    Lead.objects.filter(pk=sold_lead.pk).update(is_fraud=True)
    assert detail_actions(page(staff_console, sold_lead), sold_lead) == set()


def test_a_stale_approve_link_gets_a_message_and_nothing_to_confirm(staff_console, sold_lead):
    html = staff_console.get(f"/admin/leads/lead/{sold_lead.pk}/approve/").content.decode()
    assert "nothing to approve" in html and "Yes, approve" not in html


def test_the_lead_list_speaks_plainly(staff_console, sold_lead):
    LeadFactory(status="pending_review", budget_cents=250_000)
    html = staff_console.get("/admin/leads/lead/").content.decode()
    assert "Pending review" in html and "PENDING_REVIEW" not in html and ">pending_review<" not in html
    assert "Bay Roofing Co." in html and "$120.00" in html and "$2,500.00" in html


def test_the_lead_list_does_not_count_every_lead(staff_console, sold_lead, django_assert_max_num_queries,
                                                  monkeypatch):
    from admin_ext import paginator

    monkeypatch.setattr(paginator.EstimatedCountPaginator, "exact_up_to", 1)
    LeadFactory.create_batch(3)
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        staff_console.get("/admin/leads/lead/")
    counts = [q["sql"] for q in queries.captured_queries
              if "COUNT(" in q["sql"].upper() and '"leads_lead"' in q["sql"] and "pending_review" not in q["sql"]]
    # capped counts only (never a full one), and without the list's per-row subqueries
    assert counts and all("LIMIT 2" in sql and "SUM(" not in sql for sql in counts), counts


@pytest.mark.django_db(transaction=True)
def test_the_page_is_one_snapshot_even_if_a_sale_lands_while_it_is_built(staff_console, monkeypatch):
    """The bug: after Approve the page said "approved, 0 buyers" while its history and sales already showed the
    sale a worker committed meanwhile. Now the page reads one snapshot: all of it before the sale, or all after."""
    roofing = CategoryFactory(slug="roofing", name="Roofing")
    exclusive = make_level("exclusive", rank=1, price_cents=12_000, max_recipients=1)
    seller(exclusive, categories=[roofing])
    lead = approved_lead(category=roofing)
    original = LeadAdmin.get_object

    def get_object_then_a_worker_sells(self, request, object_id, from_field=None):
        obj = original(self, request, object_id, from_field)
        worker = threading.Thread(target=lambda: (lead_distribute(lead_id=lead.pk, trigger="approval"),
                                                  connection.close()))
        worker.start()
        worker.join()  # the sale is committed by another connection while the page is being built
        return obj

    monkeypatch.setattr(LeadAdmin, "get_object", get_object_then_a_worker_sells)
    html = page(staff_console, lead)

    assert Lead.objects.get(pk=lead.pk).status == "distributed"
    assert ">Approved<" in html and "data-refresh-after" in html  # the page will refresh itself …
    assert "Bay Roofing Co." not in html and "Not sold to anyone (yet)." in html  # … and never mixes the two
    assert "No distribution run yet." in html
    monkeypatch.setattr(LeadAdmin, "get_object", original)
    fresh = page(staff_console, lead)
    assert ">Distributed<" in fresh and "Sold to 1 buyer" in fresh
