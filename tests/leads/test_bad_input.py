"""Bad input of every shape to the public lead endpoints: always 202/200 or the SPEC §8 body, never a 500,
never a half-written lead."""
from __future__ import annotations

import json

import pytest
from django.core import mail

from hotlead.leads.models import Lead, LeadEvent, LeadVerification
from hotlead.notifications.models import EmailEvent
from tests.leads.conftest import API, valid_payload

pytestmark = pytest.mark.django_db

ODD_VALUES = [
    None, [], {}, ["a", "b"], {"nested": "object"}, 10**30, -(10**30), 1.5, True, "", " \t\n ",
    "x" * 100_000, "💥" * 3000, "a\u0000b", "\u202eevil", "' OR 1=1 --", "<script>alert(1)</script>", "٩٤١١٠",
]
FIELDS = ["name", "email", "phone", "postal_code", "category", "description", "budget_cents", "timeline",
          "consent", "source", "utm_source", "utm_medium", "utm_campaign", "referrer"]


def _written() -> tuple:
    return (Lead.objects.count(), LeadVerification.objects.count(), LeadEvent.objects.count(),
            EmailEvent.objects.count(), len(mail.outbox))


def assert_spec_error(response, status: int) -> dict:
    assert response.status_code == status, (response.status_code, response.content[:300])
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    return body["error"]


@pytest.mark.parametrize("field", FIELDS)
def test_any_value_in_any_field_is_accepted_or_a_422_that_writes_nothing(roofing, api_post, field):
    for number, value in enumerate(ODD_VALUES):
        # given
        before = _written()
        # when (a fresh address each time: the per-IP limit is tested elsewhere)
        response = api_post("/leads", valid_payload(**{field: value}), REMOTE_ADDR=f"198.51.100.{number + 1}")
        # then
        if response.status_code == 202:
            assert Lead.objects.filter(public_id=response.json()["id"]).exists()
            continue
        error = assert_spec_error(response, 422)
        assert error["code"] == "validation_error", (field, value)
        assert field in [f["field"] for f in error["details"]["fields"]], (field, value, error)
        assert _written() == before, (field, value)


@pytest.mark.parametrize("raw", ["null", "[]", "[{}]", "1", '"lead"', "true", json.dumps([valid_payload()])])
def test_a_body_that_is_not_an_object_is_a_422(roofing, client, raw):
    for path in ("/leads", "/leads/verify", "/leads/confirm", "/leads/resend-code"):
        response = client.post(f"{API}{path}", raw, content_type="application/json")
        assert assert_spec_error(response, 422)["code"] == "validation_error", (path, raw)
    assert _written() == (0, 0, 0, 0, 0)


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "application/x-www-form-urlencoded"])
def test_a_body_in_another_media_type_is_a_415(roofing, client, content_type):
    for path in ("/leads", "/leads/verify", "/leads/confirm", "/leads/resend-code"):
        response = client.generic("POST", f"{API}{path}", json.dumps(valid_payload()).encode(),
                                  content_type=content_type)
        assert assert_spec_error(response, 415)["code"] == "unsupported_media_type", (path, content_type)
    assert _written() == (0, 0, 0, 0, 0)


@pytest.mark.parametrize("lead_id", [
    None, 5, "", "not-a-uuid", "00000000-0000-0000-0000-00000000000g", "1" * 1000, ["x"], {"id": 1},
])
def test_a_malformed_lead_id_is_a_422_on_every_step(db, client, lead_id):
    bodies = {
        "/leads/verify": {"lead_id": lead_id, "code": "123456"},
        "/leads/confirm": {"lead_id": lead_id, "confirm_token": "token"},
        "/leads/resend-code": {"lead_id": lead_id},
    }
    for path, body in bodies.items():
        error = assert_spec_error(client.post(f"{API}{path}", body, content_type="application/json"), 422)
        assert [f["field"] for f in error["details"]["fields"]] == ["lead_id"], (path, error)


@pytest.mark.parametrize("code", [None, 123456, ["123456"], "x" * 101, "12\u00003456", "١٢٣٤٥٦"])
def test_an_odd_code_is_refused_and_never_verifies(submitted, api_post, code):
    lead_id, _right = submitted
    response = api_post("/leads/verify", {"lead_id": lead_id, "code": code})
    assert response.status_code in (400, 422), response.content
    assert_spec_error(response, response.status_code)
    assert Lead.objects.get(public_id=lead_id).status == "pending_verification"


@pytest.mark.parametrize("token", [None, 42, ["t"], "t" * 201, "a\u0000b", ""])
def test_an_odd_confirm_token_is_refused_and_never_confirms(verified, api_post, token):
    lead_id, _token = verified
    response = api_post("/leads/confirm", {"lead_id": lead_id, "confirm_token": token})
    assert response.status_code in (400, 422), response.content
    assert_spec_error(response, response.status_code)
    assert Lead.objects.get(public_id=lead_id).status == "verified"
