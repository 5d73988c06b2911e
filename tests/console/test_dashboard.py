"""The dashboard's KPI reads and cards, the sidebar, and the reports index."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from admin_ext import navigation
from admin_ext.dashboard import day_start, kpis_today
from hotlead.billing.services.ledger import refund_post
from hotlead.core.money import money_format as money
from hotlead.leads.models import Lead
from hotlead.ops.models import DeadLetter
from hotlead.providers.models import Provider
from hotlead.refunds.models import BadLeadReport
from tests.factories.distribution import make_assignment
from tests.factories.leads import LeadFactory
from tests.factories.levels import LevelFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def busy_day():
    now = timezone.now()
    LeadFactory.create_batch(2)  # pending_review
    LeadFactory(status="pending_verification")
    LeadFactory(status="approved", approved_at=now)
    old = LeadFactory(status="pending_review")
    Lead.objects.filter(pk=old.pk).update(created_at=now - timedelta(days=2))  # not today's, still in review
    sold = make_assignment(level=LevelFactory(price_cents=6000))  # a distributed lead, charged $60
    returned = make_assignment(level=LevelFactory(price_cents=2500))  # another, charged $25 …
    refund_post(charge=returned.charge_entry, memo="bad lead")  # … and refunded
    BadLeadReport.objects.create(assignment=sold, provider=sold.provider, reason="other", details="no answer")
    DeadLetter.objects.create(func="x.y", first_failed_at=now, last_failed_at=now)
    DeadLetter.objects.create(func="x.z", first_failed_at=now, last_failed_at=now, status="resolved")
    Provider.objects.filter(pk=sold.provider_id).update(flagged=True)


def test_kpis_today_count_exactly_what_happened_today(busy_day):
    kpis = kpis_today()
    assert kpis.submitted == 6
    assert kpis.submitted_by_status["pending_review"] == 2
    assert kpis.submitted_by_status["pending_verification"] == 1
    assert kpis.submitted_by_status["approved"] == 1
    assert kpis.submitted_by_status["distributed"] == 2
    assert kpis.submitted_by_status["rejected"] == 0
    assert kpis.approved == 1
    assert kpis.awaiting_review == 3  # review queue: every pending_review lead, also older ones
    assert kpis.revenue == {"charged": 8500, "refunded": 2500, "net": 6000, "charges": 2}
    assert kpis.dead_letters_open == 1
    assert kpis.bad_leads_pending == 1
    assert kpis.providers_flagged == 1
    assert kpis.queue_depth == 0
    assert len(kpis.leads_per_day) == 14
    assert kpis.leads_per_day[-1] == (day_start().date().isoformat(), 6)
    assert kpis.leads_per_day[-3][1] == 1  # the lead from two days ago


def test_yesterdays_money_is_not_today_revenue(busy_day):
    tomorrow = timezone.now() + timedelta(days=1)
    kpis = kpis_today(now=tomorrow)
    assert kpis.revenue == {"charged": 0, "refunded": 0, "net": 0, "charges": 0}
    assert kpis.submitted == 0 and kpis.approved == 0


def test_the_dashboard_shows_the_cards(staff_console, busy_day):
    response = staff_console.get("/admin/")
    assert response.status_code == 200
    html = response.content.decode()
    cards = dict(re.findall(r'data-kpi="(\w+)".*?data-kpi-value>([^<]+)<', html, flags=re.S))
    assert cards["submitted"] == "6"
    assert cards["awaiting_review"] == "3"
    assert cards["approved"] == "1"
    assert cards["revenue"] == "$85.00"
    assert cards["dead_letters"] == "1"
    assert cards["bad_leads"] == "1"
    assert cards["flagged"] == "1"
    assert 'data-kpi="dead_letters" data-tone="attention"' in html  # work waiting stands out
    assert 'data-kpi="revenue" data-tone="normal"' in html


def test_money_formats_integer_cents():
    assert money(0) == "$0.00"
    assert money(123456789) == "$1,234,567.89"
    assert money(-2500) == "-$25.00"
    assert money(5, "CHF") == "0.05 CHF"


def test_sidebar_groups_by_job_and_only_links_pages_that_exist(staff_console, monkeypatch):
    monkeypatch.setattr(navigation, "SIDEBAR_GROUPS", [
        *navigation.SIDEBAR_GROUPS,
        ("Nowhere", [("Missing page", "block", "admin:nothing_here_changelist")]),
    ])
    response = staff_console.get("/admin/")
    groups = response.context["sidebar_navigation"]
    titles = [group["title"] for group in groups]
    assert titles[0] == "Review" and "Operations" in titles and titles[-1] == "Reports"
    assert set(titles) <= {"Review", "Marketplace", "Money", "Operations", "Reports"}
    links = [item["link"] for group in groups for item in group["items"]]
    assert "/admin/reports/" in links
    for link in links:
        assert staff_console.get(link).status_code == 200, link


def test_reports_index_lists_only_what_exists(staff_console):
    from django.contrib import admin
    from import_export.admin import ExportMixin

    response = staff_console.get("/admin/reports/")
    assert response.status_code == 200
    exporting = sorted(
        str(model._meta.verbose_name_plural).capitalize()
        for model, model_admin in admin.site._registry.items() if isinstance(model_admin, ExportMixin)
    )
    assert [row["title"] for row in response.context["exports"]] == exporting
    for row in response.context["exports"]:
        assert staff_console.get(row["changelist_url"]).status_code == 200
    for report in response.context["reports"]:
        assert report["console_url"] or report["api_path"]
        if report["console_url"]:
            assert staff_console.get(report["console_url"]).status_code == 200
    html = response.content.decode()
    assert "lorem" not in html.lower()


def test_sidebar_badges_count_waiting_work_and_vanish_at_zero(staff_console):
    def badges():
        groups = staff_console.get("/admin/").context["sidebar_navigation"]
        return {item["title"]: item.get("badge") for group in groups for item in group["items"]}

    assert badges().get("Bad-lead reports") is None
    sold = make_assignment()
    BadLeadReport.objects.create(assignment=sold, provider=sold.provider, reason="other", details="no answer")
    assert badges().get("Bad-lead reports") == "1"


def test_the_jobs_card_says_whether_a_worker_is_alive():
    from admin_ext.components import dashboard_cards
    from hotlead.ops.models import WorkerHeartbeat

    def jobs_card():
        return next(card for card in dashboard_cards(kpis_today()) if card.key == "queue_depth")

    assert jobs_card().tone == "attention" and "no job worker has ever reported" in jobs_card().footer
    WorkerHeartbeat.objects.create(name="host:cluster", pid=1, seen_at=timezone.now() - timedelta(seconds=20))
    assert jobs_card().tone == "normal" and jobs_card().footer == "job worker seen 20 s ago"
    WorkerHeartbeat.objects.update(seen_at=timezone.now() - timedelta(hours=2))
    assert jobs_card().tone == "attention" and jobs_card().footer == "job worker silent for 120 min"


def test_every_registered_console_list_is_in_the_sidebar(staff_console):
    from django.contrib import admin

    groups = staff_console.get("/admin/").context["sidebar_navigation"]
    links = {item["link"] for group in groups for item in group["items"]}
    missing = sorted(
        f"{model._meta.app_label}.{model._meta.model_name}" for model in admin.site._registry
        if f"/admin/{model._meta.app_label}/{model._meta.model_name}/" not in links
    )
    assert missing == []


def test_staff_without_a_models_permissions_do_not_see_its_link():
    from django.contrib.auth.models import Permission
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY

    from tests.factories.accounts import StaffFactory, totp_device_for

    # given: a staff user (not superuser) who may only view categories
    staff = StaffFactory(is_superuser=False)
    staff.user_permissions.add(Permission.objects.get(codename="view_category"))
    device = totp_device_for(staff)
    client = Client()
    client.force_login(staff)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    # when
    groups = client.get("/admin/").context["sidebar_navigation"]
    # then
    titles = [item["title"] for group in groups for item in group["items"]]
    assert "Categories" in titles
    assert "Ledger" not in titles and "Failed jobs" not in titles and "Staff users" not in titles
