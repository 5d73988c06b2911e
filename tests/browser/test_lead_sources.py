"""In a real browser: staff create a lead source in the console and see its key once; the key posts a lead that
goes straight to review (verified upstream) and the lead page says so; rotate and revoke stop old keys."""
from __future__ import annotations

import json
import re

from django.test import Client

from hotlead.leads.enums import LeadStatus
from hotlead.leads.models import Lead
from hotlead.sources.models import LeadSource
from tests.browser.conftest import console_login
from tests.factories.accounts import PASSWORD, StaffFactory, totp_device_for
from tests.factories.leads import CategoryFactory


def _post_lead(key: str):
    body = {"name": "Jane Doe", "email": "jane@example.com", "phone": "+14155550100", "postal_code": "94110",
            "category": "roofing", "description": "Fix my roof before the rain", "consent": True}
    return Client().post("/api/v1/leads", json.dumps(body), content_type="application/json", HTTP_X_API_KEY=key)


def test_staff_create_rotate_and_revoke_a_lead_source_in_the_console(page):
    CategoryFactory(slug="roofing")
    staff = StaffFactory()
    console_login(page, email=staff.email, password=PASSWORD, device=totp_device_for(staff))

    # when: staff add a source marked verified upstream
    page.goto("/admin/sources/leadsource/add/")
    page.fill("input[name='name']", "Acme Leads")
    page.fill("input[name='contact']", "ops@acme.example")
    page.check("input[name='verified_upstream']")
    page.get_by_role("button", name=re.compile("^Save$", re.I)).first.click()
    # then: the key is shown on the answer, once
    key = page.locator("[data-testid='api-key']").inner_text().strip()
    source = LeadSource.objects.get(name="Acme Leads")
    assert key.startswith(source.key_prefix) and source.verified_upstream
    assert "shown only now" in page.content().replace("<strong>", "").replace("</strong>", "")
    page.screenshot(path="/tmp/lead-source-key.png", full_page=True)
    page.goto(f"/admin/sources/leadsource/{source.pk}/change/")
    assert key not in page.content()  # never again

    # when: the partner posts a lead with it
    response = _post_lead(key)
    assert response.status_code == 202
    lead = Lead.objects.get(public_id=response.json()["id"])
    assert lead.status == LeadStatus.PENDING_REVIEW
    # then: the lead page says where it came from and why it skipped verification; the list filters by source
    page.goto(f"/admin/leads/lead/{lead.pk}/change/")
    assert "verified upstream" in page.content() and "Acme Leads" in page.content()
    page.goto(f"/admin/leads/lead/?lead_source__id__exact={source.pk}")
    assert lead.name in page.content()

    # when: staff rotate the key (confirming), the old key stops working
    page.goto(f"/admin/sources/leadsource/{source.pk}/change/")
    page.get_by_role("link", name="Rotate key").first.click()
    page.wait_for_url(f"**/admin/sources/leadsource/{source.pk}/rotate-key/")
    page.get_by_role("button", name="Rotate key").click()
    new_key = page.locator("[data-testid='api-key']").inner_text().strip()
    assert new_key != key
    assert _post_lead(key).status_code == 401
    assert _post_lead(new_key).status_code == 202

    # when: staff revoke it (confirming), no key works any more
    page.goto(f"/admin/sources/leadsource/{source.pk}/change/")
    page.get_by_role("link", name="Revoke").first.click()
    page.wait_for_url(f"**/admin/sources/leadsource/{source.pk}/revoke/")
    page.get_by_role("button", name="Revoke").click()
    page.wait_for_url(f"**/admin/sources/leadsource/{source.pk}/change/")
    assert "is revoked" in page.content()
    assert _post_lead(new_key).status_code == 401
