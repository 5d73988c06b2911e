"""The report and export endpoints through the real API: figures, 422s naming the field, caching by audience,
export permissions (404 for anyone but the requester; admins any), audit, files."""
from __future__ import annotations

import csv
import io

import pytest
from django.test import Client

from hotlead.accounts.tokens import access_token_encode
from hotlead.core.models import AuditLog
from reports.models import ExportJob
from tests.conftest import bearer
from tests.factories.accounts import StaffFactory, totp_device_for
from tests.reports.conftest import EXPECTED_KPIS

pytestmark = pytest.mark.django_db
RANGE = {"date_from": "2026-03-01", "date_to": "2026-03-10"}


@pytest.fixture(autouse=True)
def _exports_dir(settings, tmp_path):
    settings.EXPORTS_ROOT = tmp_path / "exports"


def _provider_headers(provider) -> dict:
    token, _ = access_token_encode(user=provider.user, mfa=False)
    return bearer(token)


def test_kpis_endpoint(client: Client, staff_headers, market):
    response = client.get("/api/v1/admin/reports/kpis", RANGE, **staff_headers)
    assert response.status_code == 200
    assert response.json() == EXPECTED_KPIS


def test_funnel_and_revenue_endpoints(client: Client, staff_headers, market):
    funnel = client.get("/api/v1/admin/reports/funnel", RANGE, **staff_headers).json()
    assert [s["count"] for s in funnel["steps"]] == [9, 7, 6, 4, 2]
    revenue = client.get("/api/v1/admin/reports/revenue", {**RANGE, "group_by": "level"}, **staff_headers).json()
    assert revenue["group_by"] == "level"
    assert revenue["total"] == {"assignments": 3, "charges_cents": 17000, "refunds_cents": 8500, "net_cents": 8500}
    assert len(client.get("/api/v1/admin/reports/revenue", RANGE, **staff_headers).json()["rows"]) == 10


@pytest.mark.parametrize(("query", "field"), [
    ({"date_from": "2026-03-10", "date_to": "2026-03-09"}, "date_to"),
    ({"date_from": "2024-01-01", "date_to": "2026-01-01"}, "date_from"),
])
@pytest.mark.parametrize("path", ["kpis", "funnel", "revenue"])
def test_bad_range_is_a_422_naming_the_field(client: Client, staff_headers, query, field, path):
    response = client.get(f"/api/v1/admin/reports/{path}", query, **staff_headers)
    assert response.status_code == 422
    body = response.json()["error"]
    assert body["code"] == "validation_error"
    assert [f["field"] for f in body["details"]["fields"]] == [field]


def test_reports_are_for_staff_only(client: Client, provider_headers):
    assert client.get("/api/v1/admin/reports/kpis", **provider_headers).status_code == 403
    assert client.get("/api/v1/admin/reports/kpis").status_code == 401


def test_starvation_and_flags_endpoints_answer(client: Client, staff_headers, market):
    assert client.get("/api/v1/admin/reports/fairness/starvation", {"days": 3}, **staff_headers).json() == \
        {"days": 3, "items": []}
    flags = client.get("/api/v1/admin/reports/providers/flags", **staff_headers).json()["items"]
    assert {i["company_name"] for i in flags} == {"Beta Roofing", '=HYPERLINK("http://evil")'}
    assert client.get("/api/v1/admin/reports/fairness/starvation", {"days": 0}, **staff_headers).status_code == 422


def test_admin_reports_are_cached_briefly(client: Client, staff_headers, market):
    from hotlead.leads.models import Lead

    first = client.get("/api/v1/admin/reports/kpis", RANGE, **staff_headers).json()
    Lead.objects.filter(status="unsold").update(status="distributed")
    assert client.get("/api/v1/admin/reports/kpis", RANGE, **staff_headers).json() == first


def test_provider_kpis_cache_never_serves_another_providers_figures(client: Client, market):
    p1, p2 = market["p1"], market["p2"]
    p2.timezone = "UTC"  # p2's sale at 03-11 00:00 UTC stays outside the range
    p2.save()
    query = {"date_from": "2026-03-01", "date_to": "2026-03-10", "period": "day"}
    spend1 = client.get("/api/v1/provider/reports/kpis", query, **_provider_headers(p1)).json()["totals"]
    spend2 = client.get("/api/v1/provider/reports/kpis", query, **_provider_headers(p2)).json()["totals"]
    assert (spend1["received"], spend1["spend_cents"]) == (2, 14500)
    assert (spend2["received"], spend2["spend_cents"]) == (1, 2500)


# --- exports ---------------------------------------------------------------------------------------------

def _export(client, headers, path="/api/v1/admin/reports/export", **payload):
    return client.post(path, payload, content_type="application/json", **headers)


def test_admin_export_runs_and_downloads(client: Client, staff_headers, staff_user, market,
                                         django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = _export(client, staff_headers, report="ledger", format="csv", **RANGE)
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "queued"
    status = client.get(f"/api/v1/admin/reports/exports/{body['id']}", **staff_headers).json()
    assert status["status"] == "done" and status["progress"] == 1.0 and status["rows"] == 5
    assert status["download_url"] == f"/api/v1/admin/reports/exports/{body['id']}/file"
    download = client.get(status["download_url"], **staff_headers)
    assert download.status_code == 200
    assert download["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="hotlead-ledger-2026-03-01-2026-03-10.csv"' in download["Content-Disposition"]
    raw = b"".join(download.streaming_content)
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    assert status["size_bytes"] == len(raw)
    audit = AuditLog.objects.get(action="report.export")
    assert audit.actor_id == staff_user.pk and audit.changes["report"] == "ledger"


def test_provider_export_holds_only_its_own_rows(client: Client, market, django_capture_on_commit_callbacks):
    p1 = market["p1"]
    headers = _provider_headers(p1)
    with django_capture_on_commit_callbacks(execute=True):
        response = _export(client, headers, path="/api/v1/provider/reports/export", report="leads", format="csv",
                           **RANGE)
    assert response.status_code == 202
    job_id = response.json()["id"]
    status = client.get(f"/api/v1/provider/reports/exports/{job_id}", **headers).json()
    assert status["rows"] == 2
    raw = b"".join(client.get(status["download_url"], **headers).streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(raw)))
    assert rows[0][:5] == ["Assignment #", "Received", "Status", "Level", "Price ($)"]
    assert {r[4] for r in rows[1:]} == {"25.00", "120.00"}
    # the ledger: p1's own entries only (deposit and two charges; never p2's)
    with django_capture_on_commit_callbacks(execute=True):
        ledger_id = _export(client, headers, path="/api/v1/provider/reports/export", report="ledger", format="csv",
                            date_from="2026-02-01", date_to="2026-03-31").json()["id"]
    assert ExportJob.objects.get(pk=ledger_id).rows == 3


def test_provider_may_not_export_admin_reports(client: Client, market):
    response = _export(client, _provider_headers(market["p1"]), path="/api/v1/provider/reports/export",
                       report="assignments", format="csv")
    assert response.status_code == 422


def test_exports_are_404_for_anyone_but_the_requester_and_admins(client: Client, market, staff_headers,
                                                               django_capture_on_commit_callbacks):
    p1, p2 = market["p1"], market["p2"]
    with django_capture_on_commit_callbacks(execute=True):
        job_id = _export(client, _provider_headers(p1), path="/api/v1/provider/reports/export", report="ledger",
                         format="xlsx", **RANGE).json()["id"]
    other = _provider_headers(p2)
    assert client.get(f"/api/v1/provider/reports/exports/{job_id}", **other).status_code == 404
    assert client.get(f"/api/v1/provider/reports/exports/{job_id}/file", **other).status_code == 404
    # any admin may see and download it
    assert client.get(f"/api/v1/admin/reports/exports/{job_id}", **staff_headers).json()["status"] == "done"
    assert client.get(f"/api/v1/admin/reports/exports/{job_id}/file", **staff_headers).status_code == 200
    # an admin's export is not a provider's to see
    with django_capture_on_commit_callbacks(execute=True):
        admin_job = _export(client, staff_headers, report="kpis", format="csv", **RANGE).json()["id"]
    assert client.get(f"/api/v1/provider/reports/exports/{admin_job}", **_provider_headers(p1)).status_code == 404
    # another staff member sees it as admin
    colleague = StaffFactory()
    totp_device_for(colleague)
    token, _ = access_token_encode(user=colleague, mfa=True)
    assert client.get(f"/api/v1/admin/reports/exports/{admin_job}", **bearer(token)).status_code == 200


def test_export_validation_names_the_field(client: Client, staff_headers):
    response = _export(client, staff_headers, report="revenue", format="csv", params={"group_by": "week"})
    assert response.status_code == 422
    assert response.json()["error"]["details"]["fields"][0]["field"] == "params.group_by"
    response = _export(client, staff_headers, report="ledger", format="csv", date_from="2026-03-10",
                       date_to="2026-03-01")
    assert response.json()["error"]["details"]["fields"][0]["field"] == "date_to"
    assert _export(client, staff_headers, report="nope", format="csv").status_code == 422
    assert ExportJob.objects.count() == 0
