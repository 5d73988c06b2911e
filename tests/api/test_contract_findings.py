"""The findings of issue 15, each as the request that showed it: nested JSON, content types, unknown paths
under every method, the field a date error names, invisible characters in names, the error responses the
document lists."""
from __future__ import annotations

import hashlib
import hmac
import time

import pytest
from django.test import Client

from hotlead.billing.models import Payment
from hotlead.leads.models import Lead
from hotlead.providers.models import Provider
from tests.factories.leads import CategoryFactory

pytestmark = pytest.mark.django_db

WEBHOOK = "/api/v1/webhooks/payments"
SECRET = "whsec_test_0123456789abcdef"
DEEP = b"[" * 100_000 + b"]" * 100_000  # far deeper than Python's recursion limit
DEEP_BUT_PARSEABLE = b'{"a":' * 200 + b"1" + b"}" * 200  # json.loads copes; our depth limit does not


def _signed(body: bytes) -> dict:
    t = int(time.time())
    digest = hmac.new(SECRET.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return {"HTTP_X_HOTLEAD_SIGNATURE": f"t={t},v1={digest}"}


@pytest.fixture
def webhook_secret(settings):
    settings.PAYMENTS_WEBHOOK_SECRET = SECRET


@pytest.mark.parametrize("body", [DEEP, DEEP_BUT_PARSEABLE], ids=["recursion", "depth-limit"])
def test_deeply_nested_json_to_the_signed_payments_webhook_is_a_400_malformed_json(client, webhook_secret, body):
    response = client.post(WEBHOOK, body, content_type="application/json", **_signed(body))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_json"
    assert "recursion" not in response.json()["error"]["message"]
    assert Payment.objects.count() == 0


@pytest.mark.parametrize("body", [DEEP, DEEP_BUT_PARSEABLE], ids=["recursion", "depth-limit"])
def test_deeply_nested_json_elsewhere_is_a_400_malformed_json_without_python_internals(client, body):
    response = client.post("/api/v1/leads", body, content_type="application/json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "malformed_json"
    assert "recursion" not in error["message"].lower()


def test_the_payments_webhook_requires_json(client, webhook_secret):
    body = b"payment_id=pay_1&status=completed"
    response = client.post(WEBHOOK, body, content_type="application/x-www-form-urlencoded", **_signed(body))
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"
    assert Payment.objects.count() == 0


@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete"])
def test_an_unknown_api_path_is_a_404_whatever_the_method_even_with_csrf_checks_on(method):
    client = Client(enforce_csrf_checks=True)  # as a browser-less caller meets production
    response = client.generic(method.upper(), "/api/v1/no/such/thing", b"{}", content_type="application/json")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_a_reversed_date_range_names_date_to_not_the_query_model(client, provider_headers):
    response = client.get("/api/v1/provider/inbox?date_from=2026-02-01&date_to=2026-01-01", **provider_headers)
    assert response.status_code == 422
    fields = [f["field"] for f in response.json()["error"]["details"]["fields"]]
    assert fields == ["date_to"]


BIDI_AND_ZERO_WIDTH = "\u202eAcme\u200b Roofing\u2066\u200d\ufeff"


def test_registration_stores_company_and_contact_names_without_bidi_or_zero_width_characters(client):
    response = client.post("/api/v1/auth/register", {
        "email": "bidi@example.com", "password": "a-long-enough-passphrase-42", "company_name": BIDI_AND_ZERO_WIDTH,
        "contact_name": "Jo\u200bhn \u202dDoe", "phone": "+14155550100",
    }, content_type="application/json")
    assert response.status_code == 201, response.content
    provider = Provider.objects.get(pk=response.json()["id"])
    assert provider.company_name == "Acme Roofing"
    assert provider.contact_name == "John Doe"


def test_a_name_of_only_invisible_characters_is_refused(client, provider, provider_headers):
    response = client.put("/api/v1/provider/profile", {
        "company_name": "\u202e\u200b", "contact_name": "Jane", "phone": "+14155550100", "categories": [],
        "timezone": "America/New_York",
    }, content_type="application/json", **provider_headers)
    assert response.status_code == 422
    assert "company_name" in [f["field"] for f in response.json()["error"]["details"]["fields"]]


def test_a_lead_name_is_stored_without_bidi_or_zero_width_characters(client):
    CategoryFactory(slug="roofing")
    response = client.post("/api/v1/leads", {
        "name": "\u202eJane\u200b Doe\u2069", "email": "jane@example.com", "phone": "+14155550100",
        "postal_code": "94110", "category": "roofing", "description": "Fix my roof: it leaks when it rains.",
        "consent": True,
    }, content_type="application/json")
    assert response.status_code == 202, response.content
    assert Lead.objects.get(public_id=response.json()["id"]).name == "Jane Doe"


def test_every_operation_documents_its_errors_with_the_one_error_schema(client):
    schema = client.get("/api/v1/openapi.json").json()
    assert "ErrorOut" in schema["components"]["schemas"]
    ref = {"$ref": "#/components/schemas/ErrorOut"}
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            errors = {int(s): r for s, r in operation["responses"].items() if int(s) >= 400}
            assert errors, f"{method} {path} documents no error"
            for status, response in errors.items():
                assert response["content"]["application/json"]["schema"] == ref, (method, path, status)
            if operation.get("security"):
                assert {401, 403} <= set(errors), (method, path)
            if "{" in path:
                assert 404 in errors, (method, path)
            if "requestBody" in operation:
                assert {400, 415, 422} <= set(errors), (method, path)
    provider_inbox = schema["paths"]["/api/v1/provider/inbox"]["get"]["responses"]
    assert set(provider_inbox) >= {"200", "401", "403", "422"} or {200, 401, 403, 422} <= set(map(int, provider_inbox))


def test_schema_refusals_read_as_sentences_never_as_regular_expressions(client):
    CategoryFactory(slug="roofing")
    response = client.post("/api/v1/leads", {
        "name": "\u200b", "email": "not-an-address", "phone": "+14155550100", "postal_code": "!",
        "category": "roofing", "description": "Fix my roof", "consent": False,
    }, content_type="application/json")
    assert response.status_code == 422
    fields = {f["field"]: f["message"] for f in response.json()["error"]["details"]["fields"]}
    assert fields == {
        "name": "Enter your name.", "email": "Enter a valid e-mail address.",
        "postal_code": "Enter a US ZIP code: 5 digits, e.g. 94110 (or ZIP+4, e.g. 94110-1234).",  # issue 14
        "consent": "Your consent is required to pass your request to providers.",
    }
    assert "[A-Za-z0-9" not in response.content.decode() and "should match" not in response.content.decode()
