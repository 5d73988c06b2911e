"""The scheduled expiry of unverified leads, and the admin category endpoints."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from hotlead.core.models import AuditLog
from hotlead.leads.models import Category, Lead, LeadEvent
from hotlead.leads.tasks import leads_expire_unverified_job
from hotlead.ops.schedules import SCHEDULES
from tests.factories.leads import CategoryFactory, LeadFactory
from tests.leads.conftest import valid_payload

pytestmark = pytest.mark.django_db
ADMIN = "/api/v1/admin"


def aged(lead, hours: float):
    Lead.objects.filter(pk=lead.pk).update(created_at=timezone.now() - timedelta(hours=hours))
    return lead


# --- expiry ------------------------------------------------------------------------------------------

def test_unverified_leads_expire_after_48_hours_and_nothing_else_does():
    # given
    stale = aged(LeadFactory(status="pending_verification"), 48.1)
    fresh = aged(LeadFactory(status="pending_verification"), 47.9)
    old_verified = aged(LeadFactory(status="verified"), 100)
    old_in_review = aged(LeadFactory(status="pending_review"), 100)

    # when
    expired = leads_expire_unverified_job()

    # then
    assert expired == 1
    assert [Lead.objects.get(pk=lead.pk).status for lead in (stale, fresh, old_verified, old_in_review)] == [
        "expired", "pending_verification", "verified", "pending_review"]
    assert list(LeadEvent.objects.values_list("lead", "action", "from_status", "to_status")) == [
        (stale.pk, "expired", "pending_verification", "expired")]


def test_the_expiry_job_is_idempotent():
    aged(LeadFactory(status="pending_verification"), 49)
    assert leads_expire_unverified_job() == 1

    assert leads_expire_unverified_job() == 0
    assert LeadEvent.objects.filter(action="expired").count() == 1


def test_an_expired_lead_can_no_longer_be_verified(submitted, api_post):
    lead_id, code = submitted
    aged(Lead.objects.get(public_id=lead_id), 49)
    leads_expire_unverified_job()

    response = api_post("/leads/verify", {"lead_id": lead_id, "code": code})

    assert response.status_code == 409
    assert Lead.objects.get(public_id=lead_id).status == "expired"


def test_the_expiry_job_is_scheduled_hourly():
    entries = [entry for entry in SCHEDULES if entry["func"] == "hotlead.leads.tasks.leads_expire_unverified_job"]

    assert entries == [{"name": "leads.expire_unverified", "func": "hotlead.leads.tasks.leads_expire_unverified_job",
                        "every": "hourly", "at": "05"}]


# --- admin categories ----------------------------------------------------------------------------

def test_admin_lists_every_category(client, staff_headers):
    CategoryFactory(slug="roofing", name="Roofing")
    CategoryFactory(slug="asbestos", name="Asbestos", active=False)

    response = client.get(f"{ADMIN}/categories", **staff_headers)

    assert response.status_code == 200
    assert [(c["slug"], c["active"]) for c in response.json()] == [("asbestos", False), ("roofing", True)]


def test_admin_creates_a_category_and_it_is_audited(client, staff_user, staff_headers):
    response = client.post(f"{ADMIN}/categories", {"slug": "solar", "name": " Solar  panels "},
                           content_type="application/json", **staff_headers)

    assert response.status_code == 201
    assert {k: response.json()[k] for k in ("slug", "name", "active")} == {
        "slug": "solar", "name": "Solar panels", "active": True}
    assert AuditLog.objects.get(action="category.create").actor == staff_user


@pytest.mark.parametrize(("body", "status", "code"), [
    ({"slug": "roofing", "name": "Again"}, 409, "conflict"),
    ({"slug": "Bad Slug!", "name": "Bad"}, 422, "validation_error"),
    ({"slug": "ok", "name": ""}, 422, "validation_error"),
    ({"slug": "ok", "name": "Ok", "id": 5}, 422, "validation_error"),
    ({"name": "No slug"}, 422, "validation_error"),
])
def test_admin_category_create_refusals(client, staff_headers, body, status, code):
    CategoryFactory(slug="roofing", name="Roofing")

    response = client.post(f"{ADMIN}/categories", body, content_type="application/json", **staff_headers)

    assert (response.status_code, response.json()["error"]["code"]) == (status, code)
    assert list(Category.objects.values_list("slug", "name")) == [("roofing", "Roofing")]
    assert not AuditLog.objects.exists()


def test_deactivating_a_category_hides_it_from_the_public(client, staff_headers, api_post):
    CategoryFactory(slug="roofing", name="Roofing")

    response = client.put(f"{ADMIN}/categories/roofing", {"active": False, "name": "Roofs"},
                          content_type="application/json", **staff_headers)

    assert response.status_code == 200
    assert (response.json()["active"], response.json()["name"]) == (False, "Roofs")
    assert AuditLog.objects.get(action="category.update").changes == {"name": ["Roofing", "Roofs"],
                                                                       "active": [True, False]}
    assert client.get("/api/v1/categories").json() == []
    assert api_post("/leads", valid_payload()).status_code == 422


def test_the_intake_keeps_a_copy_of_the_active_categories_and_drops_it_when_one_changes(
        client, staff_headers, api_post, settings, django_assert_num_queries):
    # given: the copy kept as in production (tests read it afresh by default)
    from hotlead.leads.selectors import categories_active_forget, category_active_by_slug

    settings.HOTLEAD_CATEGORY_CACHE_SECONDS = 10
    categories_active_forget()
    roofing = CategoryFactory(slug="roofing", name="Roofing")
    assert category_active_by_slug("roofing") == roofing
    # when / then: read from the copy, no query
    with django_assert_num_queries(0):
        assert category_active_by_slug("roofing").name == "Roofing"
        assert category_active_by_slug("no-such-category") is None
    # when: deactivated through the API (a save), later replaced in the ORM directly (delete, create)
    client.put(f"{ADMIN}/categories/roofing", {"active": False}, content_type="application/json", **staff_headers)
    # then: this process sees it at once
    assert category_active_by_slug("roofing") is None
    assert api_post("/leads", valid_payload()).status_code == 422
    Category.objects.filter(slug="roofing").get().delete()
    CategoryFactory(slug="roofing", name="Roofs")
    assert category_active_by_slug("roofing").name == "Roofs"
    assert api_post("/leads", valid_payload()).status_code == 202
    categories_active_forget()


def test_updating_an_unknown_category_is_404(client, staff_headers):
    response = client.put(f"{ADMIN}/categories/nope", {"active": False}, content_type="application/json",
                          **staff_headers)

    assert response.status_code == 404
