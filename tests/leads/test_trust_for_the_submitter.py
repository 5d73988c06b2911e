"""Issue 14, the homeowner's side: real US ZIP codes, a description worth reading, budget errors in dollars,
a short reference everywhere, and an e-mail when the request is rejected and when it is sold (naming who calls)."""
from __future__ import annotations

import re

import pytest
from django.core import mail

from hotlead.distribution.services.engine import lead_distribute
from hotlead.distribution.services.outcomes import lead_outcome_notify
from hotlead.leads.models import Lead
from hotlead.leads.references import REFERENCE_ALPHABET
from hotlead.leads.selectors import reference_unused
from hotlead.leads.services.lifecycle import lead_reject
from hotlead.notifications.models import EmailEvent
from tests.distribution.conftest import approved_lead, make_level, seller
from tests.factories.accounts import StaffFactory
from tests.factories.leads import LeadFactory
from tests.factories.providers import ProviderFactory
from tests.leads.conftest import valid_payload

REFERENCE_RE = re.compile(rf"^HL-[{REFERENCE_ALPHABET}]{{5}}$")


def _field_errors(response) -> dict[str, str]:
    return {item["field"]: item["message"] for item in response.json()["error"]["details"]["fields"]}


# --- postal codes ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("postal_code", "message_part"), [
    ("ABCDE", "Enter a US ZIP code: 5 digits"),
    ("9411", "Enter a US ZIP code: 5 digits"),
    ("941100", "Enter a US ZIP code: 5 digits"),
    ("94110-12", "Enter a US ZIP code: 5 digits"),
    ("00000", "00000 is not a US ZIP code we know"),
    ("99999", "99999 is not a US ZIP code we know"),
    ("٩٤١١٠", "Enter a US ZIP code: 5 digits"),  # Arabic-Indic digits are not a ZIP code
])
def test_a_postal_code_that_is_not_a_real_us_zip_is_refused_and_nothing_is_stored(roofing, api_post, postal_code,
                                                                                  message_part):
    response = api_post("/leads", valid_payload(postal_code=postal_code))

    assert response.status_code == 422
    assert message_part in _field_errors(response)["postal_code"]
    assert not Lead.objects.exists() and mail.outbox == []


@pytest.mark.parametrize(("postal_code", "stored"), [
    ("94110", "94110"), (" 94 110 ", "94110"), ("94110-1234", "94110"), ("941101234", "94110"), ("00501", "00501"),
])
def test_a_real_zip_or_zip_plus_4_is_accepted_and_stored_as_the_5_digit_zip(roofing, api_post, postal_code, stored):
    response = api_post("/leads", valid_payload(postal_code=postal_code))

    assert response.status_code == 202, response.json()
    assert Lead.objects.get().postal_code == stored


# --- description and budget ----------------------------------------------------------------------------

def test_a_description_too_short_to_act_on_is_refused_with_its_length(roofing, api_post):
    one_char = api_post("/leads", valid_payload(description="x"))
    nineteen = api_post("/leads", valid_payload(description="Roof leaks. Help me"))
    twenty = api_post("/leads", valid_payload(description="Roof leaks. Help me!"))

    assert one_char.status_code == nineteen.status_code == 422
    assert _field_errors(one_char)["description"] == (
        "Describe the job in at least 20 characters, so that providers know what you need (you wrote 1).")
    assert "(you wrote 19)" in _field_errors(nineteen)["description"]
    assert twenty.status_code == 202
    assert Lead.objects.count() == 1


def test_a_budget_error_speaks_dollars_not_cents(roofing, api_post):
    response = api_post("/leads", valid_payload(budget_cents=10**12))

    message = _field_errors(response)["budget_cents"]
    assert message == "Enter a budget between $0 and $10,000,000, in whole dollars."
    assert "cents" not in message


# --- the reference -------------------------------------------------------------------------------------

def test_the_reference_is_short_unique_and_in_the_response_beside_the_id(roofing, api_post):
    first = api_post("/leads", valid_payload())
    second = api_post("/leads", valid_payload(email="other@example.org"))

    leads = {str(lead.public_id): lead for lead in Lead.objects.all()}
    for response in (first, second):
        body = response.json()
        assert set(body) == {"id", "reference", "status"}
        assert REFERENCE_RE.match(body["reference"]) and leads[body["id"]].reference == body["reference"]
    assert first.json()["reference"] != second.json()["reference"]
    # the verification e-mail names it too (not the 36-character id)
    assert all(f"(reference {lead.reference})" in m.body for lead, m in zip(
        sorted(leads.values(), key=lambda lead: lead.pk), mail.outbox, strict=True))


def test_reference_unused_skips_a_reference_already_taken(db, monkeypatch):
    taken = LeadFactory(reference="HL-22222").reference
    candidates = iter([taken, taken, "HL-33333"])
    monkeypatch.setattr("hotlead.leads.references.reference_generate", lambda: next(candidates))

    assert reference_unused() == "HL-33333"


def test_the_api_documents_the_reference(client):
    schema = client.get("/api/v1/openapi.json").json()["components"]["schemas"]

    assert "reference" in schema["LeadSubmitOut"]["required"]
    assert "reference" in schema["LeadConfirmOut"]["properties"]


# --- the two new e-mails ---------------------------------------------------------------------------------

def test_a_rejected_request_is_told_once_in_plain_words_with_its_reference(db, django_capture_on_commit_callbacks):
    lead = LeadFactory(status="pending_review", email="pat@example.org")
    staff = StaffFactory()

    with django_capture_on_commit_callbacks(execute=True):
        lead_reject(lead_id=lead.pk, actor=staff, reason="out_of_area", note="no roofers in that county yet")

    [message] = mail.outbox
    assert message.to == ["pat@example.org"]
    assert message.subject == f"We cannot pass on your Roofing request ({lead.reference})"
    assert "we have no providers for this service where the job is." in message.body
    assert "no roofers in that county" not in message.body  # the staff note stays internal
    assert EmailEvent.objects.filter(template="lead_rejected", related_id=str(lead.pk)).count() == 1


def test_a_sold_request_names_the_companies_that_will_call_exactly_once(roofing, django_capture_on_commit_callbacks):
    # given: two funded roofers at a level of up to three buyers
    level = make_level("semi-exclusive", rank=1, price_cents=6_000, max_recipients=3)
    ridge = seller(level, provider=ProviderFactory(company_name="Ridge Roofing", phone="+14155550101",
                                                   balance_cents=100_000, categories=[roofing], areas=["94110"]))
    peak = seller(level, provider=ProviderFactory(company_name="Peak & Sons", phone="+14155550102",
                                                  balance_cents=100_000, categories=[roofing], areas=["94110"]))
    lead = approved_lead(category=roofing, email="pat@example.org", postal_code="94110")

    # when: sold, and the outcome job runs twice (at-least-once delivery)
    with django_capture_on_commit_callbacks(execute=True):
        run = lead_distribute(lead_id=lead.pk, trigger="approval")
    with django_capture_on_commit_callbacks(execute=True):
        lead_outcome_notify(lead_id=lead.pk, run_id=run.pk)

    # then: one e-mail to the homeowner, naming both companies and the reference
    to_homeowner = [m for m in mail.outbox if m.to == ["pat@example.org"]]
    assert len(to_homeowner) == 1
    body = to_homeowner[0].body
    assert "2 local pros" in body and f"(reference {lead.reference})" in body
    assert "- Ridge Roofing, +14155550101" in body and "- Peak & Sons, +14155550102" in body
    assert "Peak &amp; Sons" in to_homeowner[0].alternatives[0][0]  # the HTML part escapes it
    assert {ridge.provider_id, peak.provider_id} == set(run.trace["levels"][0]["chosen"])
