"""Lead sources (SPEC §8.2, issue 15): staff create, rotate and revoke API keys; a keyed lead records its source,
is limited by the source's own limit, is audited; a verified-upstream source's lead goes straight to review."""
from __future__ import annotations

import pytest
from django.core import mail

from hotlead.core.models import AuditLog
from hotlead.leads.enums import LeadStatus
from hotlead.leads.models import Lead, LeadVerification
from hotlead.sources.models import LeadSource
from tests.factories.leads import CategoryFactory

pytestmark = pytest.mark.django_db

SOURCES = "/api/v1/admin/lead-sources"


def _lead(n: int = 0) -> dict:
    return {"name": f"Jane {n}", "email": f"jane{n}@example.com", "phone": "+14155550100", "postal_code": "94110",
            "category": "roofing", "description": "Fix my roof before the rain", "consent": True}


@pytest.fixture(autouse=True)
def _category(db):
    CategoryFactory(slug="roofing")


def _create(client, staff_headers, **fields):
    body = {"name": "Acme Leads", "contact": "ops@acme.example", "notes": "pays monthly", **fields}
    response = client.post(SOURCES, body, content_type="application/json", **staff_headers)
    assert response.status_code == 201, response.content
    return response.json()


def _submit(client, key: str | None, n: int = 0, **extra):
    headers = {"HTTP_X_API_KEY": key} if key is not None else {}
    return client.post("/api/v1/leads", _lead(n), content_type="application/json", **headers, **extra)


def test_staff_create_a_source_and_get_its_key_once_stored_only_as_a_digest(client, staff_headers):
    created = _create(client, staff_headers)
    key = created["api_key"]
    assert key.startswith(created["key_prefix"] + "_") and len(key) > 40
    source = LeadSource.objects.get(pk=created["id"])
    assert key not in (source.key_hash, source.key_prefix) and len(source.key_hash) == 64
    listed = client.get(SOURCES, **staff_headers).json()
    assert [s["name"] for s in listed["items"]] == ["Acme Leads"]
    assert "api_key" not in listed["items"][0] and key not in str(listed)
    assert AuditLog.objects.filter(action="lead_source.created", object_id=str(source.pk)).exists()


def test_providers_and_anonymous_callers_cannot_manage_sources(client, provider_headers):
    assert client.get(SOURCES, **provider_headers).status_code == 403
    assert client.post(SOURCES, {"name": "x"}, content_type="application/json").status_code == 401


def test_a_keyed_lead_records_its_source_and_is_audited(client, staff_headers):
    created = _create(client, staff_headers)
    response = _submit(client, created["api_key"])
    assert response.status_code == 202, response.content
    lead = Lead.objects.get(public_id=response.json()["id"])
    assert lead.lead_source_id == created["id"]
    assert lead.status == LeadStatus.PENDING_VERIFICATION  # not verified upstream: our e-mail code as usual
    assert LeadVerification.objects.filter(lead=lead).count() == 1
    assert AuditLog.objects.filter(action="lead.submitted_by_source", object_id=str(lead.pk)).exists()


def test_a_verified_upstream_source_skips_email_verification_and_goes_to_review(client, staff_headers):
    created = _create(client, staff_headers, verified_upstream=True)
    mail.outbox.clear()
    response = _submit(client, created["api_key"])
    assert response.status_code == 202
    assert response.json()["status"] == LeadStatus.PENDING_REVIEW
    lead = Lead.objects.get(public_id=response.json()["id"])
    assert lead.status == LeadStatus.PENDING_REVIEW and lead.verified_at and lead.confirmed_at
    assert not LeadVerification.objects.filter(lead=lead).exists()
    assert list(lead.events.values_list("action", flat=True).order_by("id")) == [
        "submitted", "verified_upstream", "confirmed_upstream"]
    assert not [m for m in mail.outbox if "code" in m.subject.lower()]


def test_rotating_the_key_stops_the_old_one_at_once(client, staff_headers):
    created = _create(client, staff_headers)
    rotated = client.post(f"{SOURCES}/{created['id']}/rotate-key", **staff_headers)
    assert rotated.status_code == 200
    new_key = rotated.json()["api_key"]
    assert new_key != created["api_key"]
    old = _submit(client, created["api_key"])
    assert old.status_code == 401 and old.json()["error"]["code"] == "invalid_api_key"
    assert _submit(client, new_key).status_code == 202
    assert AuditLog.objects.filter(action="lead_source.key_rotated").count() == 1


def test_a_revoked_key_is_refused_and_cannot_be_rotated(client, staff_headers):
    created = _create(client, staff_headers)
    revoked = client.post(f"{SOURCES}/{created['id']}/revoke", **staff_headers)
    assert revoked.status_code == 200 and revoked.json()["active"] is False
    refused = _submit(client, created["api_key"])
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "api_key_revoked"
    assert Lead.objects.count() == 0
    assert client.post(f"{SOURCES}/{created['id']}/rotate-key", **staff_headers).status_code == 409
    assert client.post(f"{SOURCES}/999999/revoke", **staff_headers).status_code == 404


def test_a_source_uses_its_own_rate_limit_not_the_per_ip_one(client, staff_headers, settings):
    limits = {**settings.HOTLEAD["RATE_LIMITS"], "lead_submit_ip": "2/3600"}
    settings.HOTLEAD = {**settings.HOTLEAD, "RATE_LIMITS": limits}
    created = _create(client, staff_headers, rate_limit="4/3600")
    # the partner posts from one server: more than the per-IP limit passes, up to the source's own
    statuses = [_submit(client, created["api_key"], n).status_code for n in range(5)]
    assert statuses == [202, 202, 202, 202, 429]
    # the per-IP limit still applies to the public (keyless) form from that address, counted separately
    assert [_submit(client, None, 10 + n).status_code for n in range(3)] == [202, 202, 429]


def test_an_unknown_key_is_a_401_and_stores_nothing(client):
    response = _submit(client, "hlsk_deadbeef_not-a-real-key")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_api_key"
    assert Lead.objects.count() == 0


def test_source_names_are_unique_and_cleaned(client, staff_headers):
    _create(client, staff_headers, name="\u202eAcme\u200b Leads")
    assert LeadSource.objects.get().name == "Acme Leads"
    again = client.post(SOURCES, {"name": "Acme Leads"}, content_type="application/json", **staff_headers)
    assert again.status_code == 409
    assert again.json()["error"]["details"]["fields"][0]["field"] == "name"
