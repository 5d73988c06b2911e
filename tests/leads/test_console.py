"""The console's review queue and categories: filters, the lead page, approve/reject with confirmation, import."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from hotlead.core.models import AuditLog
from hotlead.distribution.models import DistributionRun
from hotlead.leads.models import Category, Lead, LeadEvent
from tests.factories.accounts import UserFactory
from tests.factories.distribution import make_assignment
from tests.factories.leads import CategoryFactory, LeadFactory
from tests.factories.levels import LevelFactory
from tests.factories.providers import ProviderFactory

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/leads/lead/"


def page_text(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def statuses(*leads) -> list[str]:
    return [Lead.objects.get(pk=lead.pk).status for lead in leads]


# --- the queue -------------------------------------------------------------------------------------

def test_queue_filters_by_status_category_duplicate_and_date(staff_console):
    plumbing = CategoryFactory(slug="plumbing", name="Plumbing")
    review = LeadFactory(status="pending_review", name="Rita Review")
    approved = LeadFactory(status="approved", name="Abe Approved")
    dup = LeadFactory(status="pending_review", category=plumbing, possible_duplicate=True, name="Dot Duplicate")
    old = LeadFactory(status="rejected", name="Olga Old")
    Lead.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=40))
    since = (timezone.now() - timedelta(days=1)).date().isoformat()

    def shown(query: str) -> set[str]:
        text = page_text(staff_console.get(f"{CHANGELIST}?{query}"))
        return {lead.name for lead in (review, approved, dup, old) if lead.name in text}

    assert shown("status__exact=pending_review") == {"Rita Review", "Dot Duplicate"}
    assert shown(f"category__id__exact={plumbing.pk}") == {"Dot Duplicate"}
    assert shown("possible_duplicate__exact=1") == {"Dot Duplicate"}
    assert shown(f"created_at_from={since}") == {"Rita Review", "Abe Approved", "Dot Duplicate"}
    assert shown(f"created_at_to={timezone.now().date().isoformat()}") == {
        "Rita Review", "Abe Approved", "Dot Duplicate", "Olga Old"}
    assert shown(f"created_at_to={since}") == {"Olga Old"}
    assert shown("") == {"Rita Review", "Abe Approved", "Dot Duplicate", "Olga Old"}


def test_queue_search_by_email_phone_postal_code_and_public_id(staff_console):
    one = LeadFactory(name="First One", email="first@example.org", phone="+14158675309", postal_code="94110")
    two = LeadFactory(name="Second Two", email="second@example.org", phone="+14155550123", postal_code="10001")

    def found(term: str) -> set[str]:
        text = page_text(staff_console.get(CHANGELIST, {"q": term}))
        return {lead.name for lead in (one, two) if lead.name in text}

    assert found("FIRST@example") == {"First One"}
    assert found("867-5309") == {"First One"}
    assert found("100 01") == {"Second Two"}
    assert found(str(two.public_id)) == {"Second Two"}
    assert found("nobody@example.org") == set()
    # issue 14: the reference a homeowner reads out on the phone, in any case
    one.reference, two.reference = "HL-7K3Q9", "HL-7K3QA"
    one.save(update_fields=["reference"])
    two.save(update_fields=["reference"])
    assert found("hl-7k3q9") == {"First One"}
    assert found(" HL-7K3QA ") == {"Second Two"}


def test_lead_page_shows_contact_consent_source_duplicate_history_and_sales(staff_console, staff_user):
    earlier = LeadFactory(status="rejected")
    lead = LeadFactory(status="distributed", email="dana@example.org", phone="+14158675309", possible_duplicate=True,
                       duplicate_of=earlier, consent_ip="203.0.113.5", consent_user_agent="Firefox/140",
                       utm_campaign="spring-roofs", budget_cents=250000)
    LeadEvent.objects.create(lead=lead, from_status="pending_review", to_status="approved", action="approved",
                             actor=staff_user, note="looks real")
    provider = ProviderFactory(company_name="Roof Bros")
    make_assignment(lead=lead, provider=provider, level=LevelFactory(slug="exclusive", name="Exclusive"))
    DistributionRun.objects.create(lead=lead, trigger="approval", outcome="distributed", buyers=1, trace={
        "levels": [{"level": "exclusive", "considered": 4, "eligible": 2, "skipped": {"area": 2},
                    "chosen": [provider.pk], "why": "never served before"}]})

    text = page_text(staff_console.get(f"{CHANGELIST}{lead.pk}/change/"))

    for expected in ("dana@example.org", "+14158675309", "203.0.113.5", "Firefox/140", "2026-01", "spring-roofs",
                     str(earlier.public_id), "looks real", staff_user.email, "Roof Bros", "Exclusive",
                     "area: 2", "never served before", "$2,500.00"):
        assert expected in text, expected


# --- approve / reject --------------------------------------------------------------------------------

def test_row_approve_asks_for_confirmation_first(staff_console, staff_user):
    lead = LeadFactory(status="pending_review")
    url = f"{CHANGELIST}{lead.pk}/approve-row/"

    # when: the reviewer opens the action
    text = page_text(staff_console.get(url))

    # then: a confirmation page, nothing decided yet
    assert "Approve 1 lead?" in text and "Yes, approve" in text
    assert statuses(lead) == ["pending_review"]

    # when: the reviewer confirms
    response = staff_console.post(url, {"confirm": "yes"})

    # then
    assert response.status_code == 302 and response["Location"] == CHANGELIST
    assert statuses(lead) == ["approved"]
    audit = AuditLog.objects.get(action="lead.approve")
    assert (audit.actor, audit.object_id) == (staff_user, str(lead.pk))


def test_detail_reject_needs_a_reason_then_records_it(staff_console, staff_user):
    lead = LeadFactory(status="pending_review")
    url = f"{CHANGELIST}{lead.pk}/reject/"

    refused = staff_console.post(url, {"confirm": "yes", "note": "no reason given"})

    assert "Choose a reason" in page_text(refused)
    assert statuses(lead) == ["pending_review"]

    response = staff_console.post(url, {"confirm": "yes", "reason": "out_of_area", "note": "we do not serve 94110"})

    assert response.status_code == 302 and response["Location"] == f"{CHANGELIST}{lead.pk}/change/"
    lead.refresh_from_db()
    assert (lead.status, lead.reject_reason, lead.review_note, lead.reviewed_by) == (
        "rejected", "out_of_area", "we do not serve 94110", staff_user)
    assert AuditLog.objects.get(action="lead.reject").changes["reason"] == "out_of_area"


def test_approving_a_lead_not_in_review_is_refused_with_a_message(staff_console):
    lead = LeadFactory(status="rejected")

    response = staff_console.post(f"{CHANGELIST}{lead.pk}/approve/", {"confirm": "yes"}, follow=True)

    assert "cannot become approved" in page_text(response)
    assert statuses(lead) == ["rejected"]
    assert not AuditLog.objects.filter(action="lead.approve").exists()


def test_bulk_approve_confirms_then_approves_each_lead_in_review(staff_console):
    a, b = LeadFactory(status="pending_review"), LeadFactory(status="pending_review")
    done = LeadFactory(status="rejected")
    selection = {"action": "approve_selected", ACTION_CHECKBOX_NAME: [a.pk, b.pk, done.pk]}

    # when: the reviewer picks the bulk action
    text = page_text(staff_console.post(CHANGELIST, selection))

    # then: a confirmation listing the three, nothing decided yet
    assert "Approve 3 leads?" in text and "2 of 3 selected lead(s) are in review" in text
    assert statuses(a, b, done) == ["pending_review", "pending_review", "rejected"]

    # when: confirmed
    response = staff_console.post(CHANGELIST, {**selection, "confirm": "yes"}, follow=True)

    # then: the two in review are approved, the rejected one is refused and reported
    assert statuses(a, b, done) == ["approved", "approved", "rejected"]
    text = page_text(response)
    assert "Approved 2 lead(s)" in text and "Not changed" in text
    assert AuditLog.objects.filter(action="lead.approve").count() == 2


def test_bulk_reject_with_one_reason_and_note(staff_console):
    a, b = LeadFactory(status="pending_review"), LeadFactory(status="pending_review")
    selection = {"action": "reject_selected", ACTION_CHECKBOX_NAME: [a.pk, b.pk]}
    assert "Reject 2 leads?" in page_text(staff_console.post(CHANGELIST, selection))

    staff_console.post(CHANGELIST, {**selection, "confirm": "yes", "reason": "test", "note": "QA run"})

    assert list(Lead.objects.filter(pk__in=[a.pk, b.pk]).values_list("status", "reject_reason", "review_note")
                ) == [("rejected", "test", "QA run")] * 2
    assert AuditLog.objects.filter(action="lead.reject").count() == 2


# --- access ------------------------------------------------------------------------------------------

def test_console_without_a_verified_device_is_refused(staff_user):
    # given: a staff member whose password is right but whose session has no verified TOTP device
    lead = LeadFactory(status="pending_review")
    client = Client()
    client.force_login(staff_user)

    # when
    listing = client.get(CHANGELIST)
    approve = client.post(f"{CHANGELIST}{lead.pk}/approve-row/", {"confirm": "yes"})

    # then
    assert listing.status_code == 302 and "/admin/leads/" not in listing["Location"].split("?")[0]
    assert approve.status_code == 302
    assert statuses(lead) == ["pending_review"]


def test_console_refuses_a_provider(provider):
    lead = LeadFactory(status="pending_review")
    client = Client()
    client.force_login(provider.user)

    response = client.post(f"{CHANGELIST}{lead.pk}/approve-row/", {"confirm": "yes"})

    assert response.status_code in (302, 403)
    assert statuses(lead) == ["pending_review"]


def test_console_refuses_a_non_staff_user(db):
    user = UserFactory()
    client = Client()
    client.force_login(user)

    assert client.get(CHANGELIST).status_code in (302, 403)


# --- categories --------------------------------------------------------------------------------------

def test_category_add_goes_through_the_service_and_is_audited(staff_console):
    response = staff_console.post("/admin/leads/category/add/", {"slug": "Solar-Panels", "name": "Solar panels",
                                                                 "active": "on"})

    assert response.status_code == 302
    assert Category.objects.values_list("slug", "name", "active").get() == ("solar-panels", "Solar panels", True)
    assert AuditLog.objects.get(action="category.create").changes["slug"] == "solar-panels"


def test_category_import_from_a_spreadsheet(staff_console):
    # given: one existing category and a CSV that renames it and adds another
    CategoryFactory(slug="roofing", name="Roofs")
    csv = b"slug,name,active\nroofing,Roofing,1\nplumbing,Plumbing,0\n"

    # when: upload, then confirm
    preview = staff_console.post("/admin/leads/category/import/", {
        "import_file": SimpleUploadedFile("categories.csv", csv, content_type="text/csv"),
        "format": "0", "resource": "0"})
    assert preview.status_code == 200
    assert Category.objects.count() == 1  # nothing written by the preview
    confirm = preview.context["confirm_form"].initial
    response = staff_console.post("/admin/leads/category/process_import/", confirm)

    # then
    assert response.status_code == 302
    assert sorted(Category.objects.values_list("slug", "name", "active")) == [
        ("plumbing", "Plumbing", False), ("roofing", "Roofing", True)]
    assert AuditLog.objects.get(action="category.import").changes["totals"] == {"new": 1, "update": 1}


def test_category_import_refuses_a_bad_slug(staff_console):
    csv = b"slug,name,active\nNot A Slug!,Broken,1\n"

    preview = staff_console.post("/admin/leads/category/import/", {
        "import_file": SimpleUploadedFile("categories.csv", csv, content_type="text/csv"),
        "format": "0", "resource": "0"})

    assert "Invalid slug" in page_text(preview)
    assert preview.context.get("confirm_form") is None
    assert not Category.objects.exists()


def test_category_export_as_csv(staff_console):
    CategoryFactory(slug="roofing", name="Roofing")
    CategoryFactory(slug="asbestos", name="Asbestos", active=False)

    response = staff_console.post("/admin/leads/category/export/", {"format": "0", "resource": "0"})

    assert response.status_code == 200
    lines = response.content.decode().replace("\r\n", "\n").strip().splitlines()
    assert lines[0] == "slug,name,active"
    assert sorted(lines[1:]) == ["asbestos,Asbestos,0", "roofing,Roofing,1"]


def test_lead_export_follows_the_filters_and_is_audited(staff_console, staff_user):
    LeadFactory(status="pending_review", email="keep@example.org")
    LeadFactory(status="rejected", email="skip@example.org")

    response = staff_console.post("/admin/leads/lead/export/?status__exact=pending_review",
                                  {"format": "0", "resource": "0"})

    assert response.status_code == 200
    text = response.content.decode()
    # the report exports' human headers (issue 12)
    assert text.splitlines()[0].startswith("Submitted,Status,Lead ID,Name,E-mail,Phone,Postal code,Category")
    assert "keep@example.org" in text and "skip@example.org" not in text
    audit = AuditLog.objects.get(action="lead.export")
    assert (audit.actor, audit.changes["rows"]) == (staff_user, 1)
