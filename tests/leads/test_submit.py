"""POST /leads: field rules, normalisation, the consent record, duplicates, the per-IP limit; GET /categories."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from hotlead.leads import codes
from hotlead.leads.models import Lead, LeadEvent, LeadVerification
from hotlead.notifications.models import EmailEvent
from hotlead.notifications.tasks import email_render
from tests.factories.leads import CategoryFactory, LeadFactory
from tests.leads.conftest import API, last_code, last_link_token, valid_payload

pytestmark = pytest.mark.django_db


def assert_nothing_written():
    assert Lead.objects.count() == 0
    assert LeadVerification.objects.count() == 0
    assert LeadEvent.objects.count() == 0
    assert EmailEvent.objects.count() == 0
    assert mail.outbox == []


def test_submit_normalises_fields_records_consent_and_emails_a_code(roofing, api_post):
    # when
    response = api_post("/leads", valid_payload(), HTTP_USER_AGENT="Firefox/140", REMOTE_ADDR="203.0.113.9")

    # then
    assert response.status_code == 202
    lead = Lead.objects.get()
    assert response.json() == {"id": str(lead.public_id), "reference": lead.reference,
                               "status": "pending_verification"}
    assert (lead.name, lead.email, lead.phone, lead.postal_code) == (
        "Pat Submitter", "pat.submitter@example.org", "+14158675309", "94110")
    assert (lead.category, lead.budget_cents, lead.timeline, lead.phone_valid) == (roofing, 250000, "asap", True)
    assert (lead.consent_text_version, lead.consent_ip, lead.consent_user_agent) == (
        "2026-01", "203.0.113.9", "Firefox/140")
    assert timezone.now() - lead.consent_at < timedelta(seconds=10)
    assert (lead.source, lead.utm_source, lead.utm_medium, lead.utm_campaign) == (
        "web", "newsletter", "email", "spring")
    assert (lead.possible_duplicate, lead.duplicate_of) == (False, None)
    assert list(lead.events.values_list("action", "from_status", "to_status")) == [
        ("submitted", "", "pending_verification")]
    # one e-mail with a 6-digit code, to the normalised address
    assert [m.to for m in mail.outbox] == [["pat.submitter@example.org"]]
    code = last_code()
    assert f"#lead={lead.public_id}&token=" in mail.outbox[0].body
    # the code is stored only hashed, and the stored e-mail context does not hold it either
    verification = LeadVerification.objects.get(lead=lead)
    assert code not in verification.code_hash and len(verification.code_hash) == 64
    context = EmailEvent.objects.get().context
    assert code not in str(context) and last_link_token() not in str(context)
    assert not {key for key in context if "code" in key or "token" in key}  # only sealed: secrets_sealed


def test_a_verification_email_queued_before_the_secrets_were_sealed_together_still_shows_both():
    # given: an e-mail context as the intake wrote it before (the code and the link token sealed one by one)
    event = EmailEvent(template="lead_verification", to="pat@example.org", context={
        "name": "Pat", "category": "Roofing", "lead_id": "6d1f0c1e-0000-4000-8000-000000000001",
        "reference": "HL-OLD01", "code_sealed": codes.seal("012345"), "link_token_sealed": codes.seal("tok_en-1"),
        "ttl_minutes": 30})
    # when
    subject, text, html = email_render(event)
    # then
    assert subject.endswith("code: 012345") and "012345" in text and "012345" in html
    assert "&token=tok_en-1" in text and "&amp;token=tok_en-1" in html
    # and a context sealed with another key shows neither (nothing in clear)
    event.context.update(code_sealed="gAAAAB-other-key", link_token_sealed="gAAAAB-other-key")
    subject, text, _ = email_render(event)
    assert subject.endswith("code:") and "&token=\n" in text


def test_phone_that_is_possible_but_not_valid_is_kept_and_flagged(roofing, api_post):
    response = api_post("/leads", valid_payload(phone="+1 200 555 0100"))

    assert response.status_code == 202
    assert Lead.objects.values_list("phone", "phone_valid").get() == ("+12005550100", False)


@pytest.mark.parametrize(("overrides", "field"), [
    ({"name": "   "}, "name"),
    ({"name": "x" * 201}, "name"),
    ({"email": "not-an-email"}, "email"),
    ({"email": "a@b"}, "email"),
    ({"phone": "call me"}, "phone"),
    ({"phone": "123"}, "phone"),
    ({"postal_code": "!!?"}, "postal_code"),
    ({"postal_code": "12"}, "postal_code"),
    ({"category": "plumbing"}, "category"),
    ({"category": ""}, "category"),
    ({"description": "  "}, "description"),
    ({"description": "x" * 5001}, "description"),
    ({"budget_cents": -1}, "budget_cents"),
    ({"budget_cents": 10**12}, "budget_cents"),
    ({"timeline": "someday"}, "timeline"),
    ({"consent": False}, "consent"),
    ({"consent": ...}, "consent"),
    ({"consent": "yes"}, "consent"),
    ({"email": ...}, "email"),
    ({"name": 5}, "name"),
    ({"source": "bad source!"}, "source"),
    ({"utm_source": "u" * 101}, "utm_source"),
    ({"status": "approved"}, "status"),
    ({"possible_duplicate": False}, "possible_duplicate"),
])
def test_each_bad_field_is_a_422_naming_it_and_writes_nothing(roofing, api_post, overrides, field):
    # when
    response = api_post("/leads", valid_payload(**overrides))

    # then
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert field in [f["field"] for f in error["details"]["fields"]]
    assert all(f["message"] for f in error["details"]["fields"])
    assert_nothing_written()


def test_every_bad_field_is_reported_at_once(roofing, api_post):
    response = api_post("/leads", valid_payload(email="nope", phone="x", postal_code="!", consent=False))

    assert response.status_code == 422
    assert [f["field"] for f in response.json()["error"]["details"]["fields"]] == [
        "email", "phone", "postal_code", "consent"]
    assert_nothing_written()


def test_an_inactive_category_is_unknown(api_post):
    CategoryFactory(slug="roofing", name="Roofing", active=False)

    response = api_post("/leads", valid_payload())

    assert response.status_code == 422
    assert response.json()["error"]["details"]["fields"] == [{"field": "category", "message": "Unknown category."}]
    assert_nothing_written()


def test_description_of_exactly_5000_characters_is_accepted(roofing, api_post):
    response = api_post("/leads", valid_payload(description="d" * 5000))

    assert response.status_code == 202
    assert len(Lead.objects.get().description) == 5000


def test_malformed_json_is_a_400_and_writes_nothing(roofing, client):
    response = client.post(f"{API}/leads", "{not json", content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_json"
    assert_nothing_written()


@pytest.mark.parametrize(("earlier", "flagged"), [
    ({"email": "pat.submitter@example.org", "phone": "+14155550000"}, True),   # same e-mail
    ({"email": "other@example.org", "phone": "+14158675309"}, True),          # same phone
    ({"email": "other@example.org", "phone": "+14155550000"}, False),         # neither
])
def test_same_email_or_phone_in_the_same_category_is_flagged(roofing, api_post, earlier, flagged):
    # given
    first = LeadFactory(category=roofing, **earlier)

    # when
    response = api_post("/leads", valid_payload())

    # then: the new lead is kept either way, flagged only on a match
    assert response.status_code == 202
    lead = Lead.objects.get(public_id=response.json()["id"])
    assert (lead.possible_duplicate, lead.duplicate_of) == ((True, first) if flagged else (False, None))
    assert Lead.objects.count() == 2


def test_the_duplicate_link_points_to_the_latest_earlier_lead(roofing, api_post):
    LeadFactory(category=roofing, email="pat.submitter@example.org")
    latest = LeadFactory(category=roofing, email="pat.submitter@example.org")

    response = api_post("/leads", valid_payload())

    assert Lead.objects.get(public_id=response.json()["id"]).duplicate_of == latest


def test_no_duplicate_across_categories_outside_the_window_or_with_an_expired_lead(roofing, api_post):
    # given: a match in another category, one 31 days old, and one that expired unverified
    LeadFactory(category=CategoryFactory(slug="plumbing"), email="pat.submitter@example.org")
    old = LeadFactory(category=roofing, email="pat.submitter@example.org")
    Lead.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=31))
    LeadFactory(category=roofing, email="pat.submitter@example.org", status="expired")

    # when
    response = api_post("/leads", valid_payload())

    # then
    lead = Lead.objects.get(public_id=response.json()["id"])
    assert (lead.possible_duplicate, lead.duplicate_of) == (False, None)


def test_submissions_are_rate_limited_per_ip_with_retry_after(roofing, api_post):
    # given: the 10 submissions an IP may make in an hour (invalid ones count too)
    for _ in range(10):
        assert api_post("/leads", valid_payload(category="no-such-category"),
                        REMOTE_ADDR="198.51.100.7").status_code == 422

    # when
    response = api_post("/leads", valid_payload(), REMOTE_ADDR="198.51.100.7")

    # then
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(response["Retry-After"]) <= 3600
    assert_nothing_written()
    # another address is not affected
    assert api_post("/leads", valid_payload(), REMOTE_ADDR="198.51.100.8").status_code == 202


def test_stored_leads_count_against_the_limit_too(roofing, api_post):
    # given: 10 leads stored from one address (each counted in its own transaction)
    for n in range(10):
        assert api_post("/leads", valid_payload(email=f"pat{n}@example.org"),
                        REMOTE_ADDR="198.51.100.9").status_code == 202
    # when
    response = api_post("/leads", valid_payload(email="pat10@example.org"), REMOTE_ADDR="198.51.100.9")
    # then
    assert response.status_code == 429
    assert Lead.objects.count() == 10 and LeadVerification.objects.count() == 10
    assert EmailEvent.objects.count() == 10 and len(mail.outbox) == 10


def test_a_reference_drawn_twice_is_drawn_again_and_the_lead_stored_once(roofing, api_post, monkeypatch):
    # given: the first reference drawn is already taken
    taken = LeadFactory(category=roofing, reference="HL-22222")
    monkeypatch.setattr("hotlead.leads.services.intake.reference_generate", lambda: taken.reference)
    # when
    response = api_post("/leads", valid_payload(), REMOTE_ADDR="198.51.100.10")
    # then: stored once, under another reference, with one e-mail
    assert response.status_code == 202
    lead = Lead.objects.get(public_id=response.json()["id"])
    assert lead.reference != taken.reference and response.json()["reference"] == lead.reference
    assert Lead.objects.count() == 2 and LeadEvent.objects.filter(lead=lead).count() == 1
    assert EmailEvent.objects.count() == 1 and len(mail.outbox) == 1
    # and the attempt counted once: nine more from that address pass, the next is refused
    for n in range(9):
        assert api_post("/leads", valid_payload(category="no-such-category"),
                        REMOTE_ADDR="198.51.100.10").status_code == 422
    assert api_post("/leads", valid_payload(), REMOTE_ADDR="198.51.100.10").status_code == 429


def test_categories_lists_active_ones_by_name(client, db):
    CategoryFactory(slug="roofing", name="Roofing")
    CategoryFactory(slug="electrical", name="Electrical")
    CategoryFactory(slug="hidden", name="Asbestos", active=False)

    response = client.get(f"{API}/categories")

    assert response.status_code == 200
    assert response.json() == [{"slug": "electrical", "name": "Electrical"}, {"slug": "roofing", "name": "Roofing"}]
