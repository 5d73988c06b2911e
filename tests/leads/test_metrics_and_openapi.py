"""Funnel metrics are exported for every process, and the lead endpoints are in the OpenAPI document."""
from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from tests.factories.leads import LeadFactory
from tests.leads.conftest import last_code, valid_payload

pytestmark = pytest.mark.django_db


def metric(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_the_funnel_is_counted_after_commit(roofing, api_post):
    before = {
        "web": metric("hotlead_leads_submitted_total", source="web"),
        "other": metric("hotlead_leads_submitted_total", source="other"),
        "verified": metric("hotlead_leads_verified_total"),
        "confirmed": metric("hotlead_leads_confirmed_total"),
    }

    lead_id = api_post("/leads", valid_payload()).json()["id"]
    token = api_post("/leads/verify", {"lead_id": lead_id, "code": last_code()}).json()["confirm_token"]
    api_post("/leads/confirm", {"lead_id": lead_id, "confirm_token": token})
    # a free-text source never becomes a label of its own
    api_post("/leads", valid_payload(source="my-landing-page-7", email="x@example.org", phone="+14155550199"))

    assert metric("hotlead_leads_submitted_total", source="web") == before["web"] + 1
    assert metric("hotlead_leads_submitted_total", source="other") == before["other"] + 1
    assert metric("hotlead_leads_verified_total") == before["verified"] + 1
    assert metric("hotlead_leads_confirmed_total") == before["confirmed"] + 1


def test_a_refused_submission_is_not_counted(roofing, api_post):
    before = metric("hotlead_leads_submitted_total", source="web")

    api_post("/leads", valid_payload(consent=False))

    assert metric("hotlead_leads_submitted_total", source="web") == before


def test_the_metrics_endpoint_exports_the_lead_funnel(roofing, api_post, client):
    api_post("/leads", valid_payload())

    body = client.get("/metrics").content.decode()

    for name in ("hotlead_leads_submitted_total", "hotlead_leads_verified_total", "hotlead_leads_confirmed_total",
                 "hotlead_leads_approved_total", "hotlead_leads_rejected_total"):
        assert name in body, name
    assert 'hotlead_leads_submitted_total{source="web"}' in body


def test_the_review_queue_reads_in_a_fixed_number_of_queries(client, staff_headers,
                                                              django_assert_max_num_queries):
    for _ in range(30):
        LeadFactory()

    with django_assert_max_num_queries(4):
        response = client.get("/api/v1/admin/leads?limit=25", **staff_headers)

    assert len(response.json()["items"]) == 25


def test_openapi_documents_the_lead_endpoints(client, db):
    paths = client.get("/api/v1/openapi.json").json()["paths"]

    for path in ("/api/v1/leads", "/api/v1/leads/verify", "/api/v1/leads/confirm", "/api/v1/leads/resend-code",
                 "/api/v1/categories", "/api/v1/admin/leads", "/api/v1/admin/leads/{lead_id}",
                 "/api/v1/admin/leads/{lead_id}/approve", "/api/v1/admin/leads/{lead_id}/reject",
                 "/api/v1/admin/categories", "/api/v1/admin/categories/{slug}"):
        assert path in paths, path
