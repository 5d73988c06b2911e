"""Verify (code or link), confirm and resend: expiry, lockout after 5 wrong tries, single use, rate limits."""
from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone

from hotlead.core.exceptions import ApplicationError
from hotlead.leads.models import Lead, LeadEvent, LeadVerification
from hotlead.leads.services.intake import lead_submit, lead_verify
from hotlead.leads.validation import LeadSubmission
from tests.factories.leads import CategoryFactory
from tests.leads.conftest import last_code, last_link_token, valid_payload, verification_emails, wrong_code

pytestmark = pytest.mark.django_db


def verify(api_post, lead_id, *, ip: str = "127.0.0.1", **body):
    return api_post("/leads/verify", {"lead_id": lead_id, **body}, REMOTE_ADDR=ip)


def status_of(lead_id) -> str:
    return Lead.objects.get(public_id=lead_id).status


def attempts_of(lead_id) -> int:
    return LeadVerification.objects.filter(lead__public_id=lead_id).order_by("-id").first().attempts


# --- verify ----------------------------------------------------------------------------------------

def test_the_right_code_verifies_and_returns_a_confirm_token(submitted, api_post):
    lead_id, code = submitted

    response = verify(api_post, lead_id, code=code)

    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["status"]) == (lead_id, "verified")
    assert len(body["confirm_token"]) >= 40
    assert body["lead"] == {
        "name": "Pat Submitter", "email": "pat.submitter@example.org", "phone": "+14158675309",
        "postal_code": "94110", "category": "roofing", "category_name": "Roofing",
        "description": "The roof leaks over the kitchen.", "budget_cents": 250000, "timeline": "asap",
    }
    lead = Lead.objects.get(public_id=lead_id)
    assert lead.verified_at is not None
    verification = LeadVerification.objects.get(lead=lead)
    assert verification.used_at is not None and verification.attempts == 0
    assert body["confirm_token"] not in verification.confirm_token_hash
    assert list(lead.events.values_list("action", "from_status", "to_status", "data")) == [
        ("submitted", "", "pending_verification", {}),
        ("verified", "pending_verification", "verified", {"method": "code"}),
    ]


def test_the_emailed_link_token_verifies_too(submitted, api_post):
    lead_id, _code = submitted

    response = verify(api_post, lead_id, token=last_link_token())

    assert response.status_code == 200
    assert response.json()["status"] == "verified"
    assert LeadEvent.objects.get(action="verified").data == {"method": "link"}


def test_a_wrong_code_is_counted_and_refused(submitted, api_post):
    lead_id, code = submitted

    response = verify(api_post, lead_id, code=wrong_code(code))

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_code"
    assert error["details"]["attempts_left"] == 4
    assert error["details"]["fields"][0]["field"] == "code"
    assert (status_of(lead_id), attempts_of(lead_id)) == ("pending_verification", 1)


def test_a_wrong_link_token_counts_as_a_wrong_try(submitted, api_post):
    lead_id, _code = submitted

    response = verify(api_post, lead_id, token="not-the-token")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_code"
    assert attempts_of(lead_id) == 1


def test_five_wrong_tries_lock_the_code_even_against_the_right_one(submitted, api_post):
    lead_id, code = submitted
    for left in (4, 3, 2, 1, 0):
        response = verify(api_post, lead_id, code=wrong_code(code))
        assert response.json()["error"]["details"]["attempts_left"] == left

    response = verify(api_post, lead_id, code=code)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "verification_locked"
    assert (status_of(lead_id), attempts_of(lead_id)) == ("pending_verification", 5)


def test_a_new_code_lifts_the_lock_and_the_old_code_stops_working(submitted, api_post):
    # given: a locked code
    lead_id, old_code = submitted
    for _ in range(5):
        verify(api_post, lead_id, code=wrong_code(old_code))

    # when
    response = api_post("/leads/resend-code", {"lead_id": lead_id})

    # then
    assert response.status_code == 202
    assert response.json() == {"id": lead_id, "status": "pending_verification"}
    assert len(verification_emails()) == 2
    new_code = last_code()
    if new_code != old_code:  # one chance in a million that the new code equals the old one
        assert verify(api_post, lead_id, code=old_code).json()["error"]["code"] == "invalid_code"
    assert verify(api_post, lead_id, code=new_code).status_code == 200
    assert LeadVerification.objects.filter(lead__public_id=lead_id, superseded_at__isnull=False).count() == 1


def test_an_expired_code_is_refused_without_counting_a_try(submitted, api_post):
    lead_id, code = submitted
    LeadVerification.objects.filter(lead__public_id=lead_id).update(expires_at=timezone.now() - timedelta(seconds=1))

    response = verify(api_post, lead_id, code=code)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "code_expired"
    assert (status_of(lead_id), attempts_of(lead_id)) == ("pending_verification", 0)


def test_the_code_is_valid_for_30_minutes(submitted):
    lead_id, _code = submitted
    verification = LeadVerification.objects.get(lead__public_id=lead_id)

    assert timedelta(minutes=29, seconds=50) < verification.expires_at - verification.created_at <= timedelta(
        minutes=30)


def test_a_code_is_single_use(submitted, api_post):
    lead_id, code = submitted
    assert verify(api_post, lead_id, code=code).status_code == 200

    response = verify(api_post, lead_id, code=code)

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"
    assert LeadEvent.objects.filter(action="verified").count() == 1


@pytest.mark.parametrize("body", [{}, {"code": "123456", "token": "abc"}, {"code": ""}])
def test_exactly_one_of_code_or_token_is_required(submitted, api_post, body):
    lead_id, _code = submitted

    response = verify(api_post, lead_id, **body)

    assert response.status_code == 422
    assert response.json()["error"]["details"]["fields"][0]["field"] == "code"
    assert attempts_of(lead_id) == 0


def test_an_unknown_lead_is_404_and_a_malformed_id_422(roofing, api_post):
    assert verify(api_post, str(uuid.uuid4()), code="123456").json()["error"]["code"] == "not_found"
    response = verify(api_post, "not-a-uuid", code="123456")
    assert response.status_code == 422
    assert response.json()["error"]["details"]["fields"][0]["field"] == "lead_id"


def test_verify_rejects_unknown_fields(submitted, api_post):
    lead_id, code = submitted

    response = verify(api_post, lead_id, code=code, status="verified")

    assert response.status_code == 422
    assert status_of(lead_id) == "pending_verification"


def test_verification_tries_are_rate_limited_per_lead(submitted, api_post):
    # given: the 10 tries a lead allows in 15 minutes (5 wrong, then 5 refused as locked)
    lead_id, code = submitted
    for _ in range(10):
        assert verify(api_post, lead_id, code=wrong_code(code)).status_code == 400

    # when
    response = verify(api_post, lead_id, code=code)

    # then
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(response["Retry-After"]) <= 900
    assert (status_of(lead_id), attempts_of(lead_id)) == ("pending_verification", 5)


def test_verification_tries_are_rate_limited_per_ip(roofing, api_post):
    for _ in range(30):
        assert verify(api_post, str(uuid.uuid4()), code="123456", ip="192.0.2.1").status_code == 404

    response = verify(api_post, str(uuid.uuid4()), code="123456", ip="192.0.2.1")

    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    assert verify(api_post, str(uuid.uuid4()), code="123456", ip="192.0.2.2").status_code == 404


# --- confirm ---------------------------------------------------------------------------------------

def test_confirm_sends_the_lead_to_review_and_emails_the_submitter(verified, api_post):
    lead_id, confirm_token = verified
    mail.outbox.clear()

    response = api_post("/leads/confirm", {"lead_id": lead_id, "confirm_token": confirm_token})

    assert response.status_code == 200
    assert response.json() == {"id": lead_id, "reference": Lead.objects.get().reference, "status": "pending_review"}
    lead = Lead.objects.get(public_id=lead_id)
    assert lead.confirmed_at is not None
    assert lead.events.last().action == "confirmed"
    assert [(m.to, m.subject) for m in mail.outbox] == [
        (["pat.submitter@example.org"], "We received your request for Roofing")]
    # issue 14: the short reference, not the 36-character id
    assert f"(reference {lead.reference})" in mail.outbox[0].body and lead_id not in mail.outbox[0].body


def test_confirm_with_a_wrong_token_is_refused(verified, api_post):
    lead_id, _token = verified

    response = api_post("/leads/confirm", {"lead_id": lead_id, "confirm_token": "forged"})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_token"
    assert status_of(lead_id) == "verified"


def test_confirm_twice_is_a_conflict(verified, api_post):
    lead_id, token = verified
    assert api_post("/leads/confirm", {"lead_id": lead_id, "confirm_token": token}).status_code == 200

    response = api_post("/leads/confirm", {"lead_id": lead_id, "confirm_token": token})

    assert response.status_code == 409
    assert LeadEvent.objects.filter(action="confirmed").count() == 1


def test_confirm_before_verify_is_a_conflict(submitted, api_post):
    lead_id, _code = submitted

    response = api_post("/leads/confirm", {"lead_id": lead_id, "confirm_token": "anything"})

    assert response.status_code == 409
    assert status_of(lead_id) == "pending_verification"


def test_confirm_requires_the_token(verified, api_post):
    lead_id, _token = verified

    response = api_post("/leads/confirm", {"lead_id": lead_id})

    assert response.status_code == 422
    assert response.json()["error"]["details"]["fields"][0]["field"] == "confirm_token"


# --- resend ----------------------------------------------------------------------------------------

def test_resend_is_rate_limited_per_lead(submitted, api_post):
    lead_id, _code = submitted
    for _ in range(3):
        assert api_post("/leads/resend-code", {"lead_id": lead_id}).status_code == 202

    response = api_post("/leads/resend-code", {"lead_id": lead_id})

    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 900
    assert len(verification_emails()) == 4  # the first code and three resends, nothing more


def test_resend_is_rate_limited_per_ip(roofing, api_post):
    for _ in range(10):
        assert api_post("/leads/resend-code", {"lead_id": str(uuid.uuid4())}, REMOTE_ADDR="192.0.2.9"
                        ).status_code == 404

    response = api_post("/leads/resend-code", {"lead_id": str(uuid.uuid4())}, REMOTE_ADDR="192.0.2.9")

    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1


def test_resend_for_a_verified_lead_is_a_conflict(verified, api_post):
    lead_id, _token = verified

    response = api_post("/leads/resend-code", {"lead_id": lead_id})

    assert response.status_code == 409
    assert len(verification_emails()) == 1


# --- concurrency -----------------------------------------------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_concurrent_wrong_tries_never_exceed_five():
    # given: a submitted lead and its code
    CategoryFactory(slug="roofing", name="Roofing")
    lead = lead_submit(submission=LeadSubmission(**valid_payload()), ip="192.0.2.50")
    code = last_code()
    codes_seen: list[str] = []
    barrier = threading.Barrier(8)

    def try_wrong(n: int) -> None:
        try:
            barrier.wait()
            lead_verify(public_id=lead.public_id, code=wrong_code(code), ip=f"192.0.2.{100 + n}")
        except ApplicationError as exc:
            codes_seen.append(exc.code)
        finally:
            connection.close()

    # when: eight wrong tries at once
    threads = [threading.Thread(target=try_wrong, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # then: exactly five were counted, the rest found the code locked
    assert sorted(codes_seen) == ["invalid_code"] * 5 + ["verification_locked"] * 3
    assert LeadVerification.objects.get(lead=lead).attempts == 5
    assert Lead.objects.get(pk=lead.pk).status == "pending_verification"
