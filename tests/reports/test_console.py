"""The console's report pages, export button endpoints, My exports and the dashboard's report links."""
from __future__ import annotations

import re

import pytest
from django.test import Client

from reports.models import ExportJob
from tests.factories.accounts import StaffFactory, totp_device_for

pytestmark = pytest.mark.django_db
RANGE = {"date_from": "2026-03-01", "date_to": "2026-03-10"}


@pytest.fixture(autouse=True)
def _exports_dir(settings, tmp_path):
    settings.EXPORTS_ROOT = tmp_path / "exports"


def _cells(html: str) -> list[str]:
    return [re.sub(r"\s+", " ", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", html, flags=re.S)]


@pytest.mark.parametrize("key", ["kpis", "funnel", "revenue", "starvation", "flags"])
def test_every_report_page_renders_a_chart_and_a_table(staff_console: Client, market, key):
    response = staff_console.get(f"/admin/reports/{key}/", RANGE if key not in ("starvation", "flags") else {})
    assert response.status_code == 200
    html = response.content.decode()
    assert f'data-chart="{key}"' in html and 'class="chart"' in html
    assert 'id="export-form"' in html


def test_kpi_page_shows_the_figures(staff_console: Client, market):
    cells = _cells(staff_console.get("/admin/reports/kpis/", RANGE).content.decode())
    pairs = dict(zip(cells[::2], cells[1::2], strict=False))
    assert pairs["Submitted"] == "9" and pairs["Sell-through"] == "66.7%"
    assert pairs["Revenue (charges)"] == "$170.00" and pairs["Net"] == "$85.00"


def test_revenue_page_rows_and_total(staff_console: Client, market):
    html = staff_console.get("/admin/reports/revenue/", {**RANGE, "group_by": "level"}).content.decode()
    cells = _cells(html)
    assert cells[-5:] == ["Total", "3", "$170.00", "$85.00", "$85.00"]


def test_a_bad_range_is_shown_on_its_field(staff_console: Client):
    response = staff_console.get("/admin/reports/kpis/", {"date_from": "2026-03-10", "date_to": "2026-03-01"})
    assert response.status_code == 422
    assert 'data-error="date_to"' in response.content.decode()


def test_export_button_queues_polls_and_downloads(staff_console: Client, staff_user, market,
                                                  django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_console.post("/admin/reports/export/", {**RANGE, "report": "revenue", "format": "xlsx",
                                                                 "params": '{"group_by": "category"}'})
    assert response.status_code == 202
    job = ExportJob.objects.get()
    assert job.requested_by == staff_user and job.params == {"group_by": "category"}
    status = staff_console.get(response.json()["status_url"]).json()
    assert status["status"] == "done" and status["download_url"]
    download = staff_console.get(status["download_url"])
    assert download.status_code == 200
    assert download["Content-Type"].startswith("application/vnd.openxmlformats")
    # My exports lists it with its download link
    listing = staff_console.get("/admin/reports/exportjob/").content.decode()
    assert status["download_url"] in listing


def test_my_exports_lists_only_mine(staff_console: Client, market, django_capture_on_commit_callbacks):
    other = StaffFactory()
    with django_capture_on_commit_callbacks(execute=True):
        mine = staff_console.post("/admin/reports/export/", {**RANGE, "report": "kpis", "format": "csv"}).json()
    theirs = ExportJob.objects.create(requested_by=other, report="ledger", format="csv", date_from="2026-03-01",
                                      date_to="2026-03-10", expires_at="2030-01-01T00:00:00Z")
    listing = staff_console.get("/admin/reports/exportjob/").context["cl"].result_list
    assert [j.pk for j in listing] == [mine["id"]]
    # an admin may still open anyone's export by its status URL (admins: any)
    assert staff_console.get(f"/admin/reports/exports/{theirs.pk}/status/").status_code == 200


def test_export_endpoint_refuses_bad_input(staff_console: Client):
    response = staff_console.post("/admin/reports/export/", {"report": "nope", "format": "csv"})
    assert response.status_code == 422 and response.json()["error"]["details"]["fields"][0]["field"] == "report"


def test_report_pages_need_a_verified_staff_session(client: Client, market):
    assert client.get("/admin/reports/kpis/").status_code == 302
    staff = StaffFactory()
    totp_device_for(staff)
    client.force_login(staff)  # no OTP verification in this session
    assert client.get("/admin/reports/kpis/").status_code == 302
    assert client.get("/admin/reports/exports/1/download/").status_code == 302


def test_dashboard_links_each_chart_to_its_report(staff_console: Client, market):
    html = staff_console.get("/admin/").content.decode()
    assert 'data-chart="leads_by_status"' in html and 'data-chart="revenue_by_level"' in html
    assert "/admin/reports/funnel/" in html and "/admin/reports/revenue/?group_by=level" in html
    cards = dict(re.findall(r'data-kpi="(\w+)".*?data-kpi-value>([^<]+)<', html, flags=re.S))
    assert {"starving", "sell_through", "flagged"} <= set(cards)
    assert '/admin/reports/flags/' in html and '/admin/reports/starvation/' in html


def test_the_reports_section_lists_its_report_pages_not_an_empty_notice(staff_console: Client):
    """Seen as a new user would: Reports read "No report pages are installed yet"."""
    html = staff_console.get("/admin/reports/").content.decode()

    assert "No report pages are installed yet" not in html
    for key in ("kpis", "funnel", "revenue", "starvation", "flags"):
        assert f'href="/admin/reports/{key}/"' in html
