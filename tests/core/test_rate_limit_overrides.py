"""Rate limits ops change in the console without code (SPEC §12, issue 15): an override wins over the settings
(and HOTLEAD_RATE_LIMITS), is audited, and removing it restores the default."""
from __future__ import annotations

import pytest

from hotlead.core.models import AuditLog, RateLimitOverride
from hotlead.core.ratelimit import rate_limit_rule
from tests.factories.leads import CategoryFactory

pytestmark = pytest.mark.django_db

LEAD = {"name": "Jane", "email": "jane@example.com", "phone": "+14155550100", "postal_code": "94110",
        "category": "roofing", "description": "Fix my roof before the rain", "consent": True}


def test_a_console_override_changes_the_public_lead_limit_and_is_audited(staff_console, client):
    CategoryFactory(slug="roofing")
    response = staff_console.post("/admin/core/ratelimitoverride/add/",
                                  {"scope": "lead_submit_ip", "rule": "1/3600", "note": "spam wave"})
    assert response.status_code == 302, response.content[:2000]
    assert rate_limit_rule("lead_submit_ip") == "1/3600"
    assert AuditLog.objects.filter(action="rate_limit.override_set").count() == 1
    statuses = [client.post("/api/v1/leads", {**LEAD, "email": f"j{n}@example.com"},
                            content_type="application/json").status_code for n in range(2)]
    assert statuses == [202, 429]

    override = RateLimitOverride.objects.get()
    staff_console.post(f"/admin/core/ratelimitoverride/{override.pk}/delete/", {"post": "yes"})
    assert not RateLimitOverride.objects.exists()
    assert rate_limit_rule("lead_submit_ip") == "10/3600"
    assert AuditLog.objects.filter(action="rate_limit.override_deleted").count() == 1


def test_the_console_refuses_a_malformed_rule(staff_console):
    response = staff_console.post("/admin/core/ratelimitoverride/add/", {"scope": "login_account", "rule": "ten"})
    assert response.status_code == 200
    assert b"count/seconds" in response.content
    assert not RateLimitOverride.objects.exists()
