"""The portal's Reports page: the provider's KPIs by period, its export form and its exports (others' are 404)."""
from __future__ import annotations

import pytest
from django.test import Client

from reports.models import ExportJob
from tests.reports.conftest import DATE_FROM, DATE_TO

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _exports_dir(settings, tmp_path):
    settings.EXPORTS_ROOT = tmp_path / "exports"


def _portal(provider) -> Client:
    client = Client()
    client.force_login(provider.user)
    return client


def test_reports_page_shows_kpis_by_period(market):
    p1 = market["p1"]
    p1.timezone = "UTC"
    p1.save()
    response = _portal(p1).get("/portal/my-reports/", {"period": "week", "date_from": DATE_FROM, "date_to": DATE_TO})
    assert response.status_code == 200
    report = response.context["report"]
    assert report.period == "week" and report.totals.received == 2 and report.totals.spend_cents == 14500
    html = response.content.decode()
    assert 'data-testid="kpi-total"' in html and "$145.00" in html
    assert 'href="/portal/my-reports/"' in html  # the navigation links the page


def test_a_bad_period_range_names_the_field(market):
    response = _portal(market["p1"]).get("/portal/my-reports/", {"date_from": "2026-03-10", "date_to": "2026-03-01"})
    assert response.status_code == 422
    assert 'data-error="date_from"' in response.content.decode()


def test_export_form_queues_an_export_of_the_providers_rows(market, django_capture_on_commit_callbacks):
    p1, p2 = market["p1"], market["p2"]
    client = _portal(p1)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/portal/my-reports/", {"export-report": "leads", "export-format": "csv",
                                                       "export-date_from": "2026-03-01",
                                                       "export-date_to": "2026-03-10"})
    assert response.status_code == 302
    job = ExportJob.objects.get()
    assert (job.provider_id, job.requested_by_id, job.status, job.rows) == (p1.pk, p1.user_id, "done", 2)
    page = client.get("/portal/my-reports/").content.decode()
    url = f"/portal/my-reports/exports/{job.pk}/download/"
    assert url in page
    download = client.get(url)
    assert download.status_code == 200 and download["Content-Type"] == "text/csv; charset=utf-8"
    # another provider gets a 404, and does not see it in its list
    other = _portal(p2)
    assert other.get(url).status_code == 404
    assert url not in other.get("/portal/my-reports/").content.decode()


def test_portal_cannot_export_admin_reports(market):
    response = _portal(market["p1"]).post("/portal/my-reports/", {"export-report": "assignments",
                                                                  "export-format": "csv"})
    assert 'data-error="export-report"' in response.content.decode()
    assert ExportJob.objects.count() == 0
