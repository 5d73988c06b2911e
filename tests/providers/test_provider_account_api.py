"""GET|PUT /provider/profile, /provider/service-areas, /provider/notification-preferences (SPEC §7, §13)."""
from __future__ import annotations

import pytest

from hotlead.accounts.tokens import access_token_encode
from hotlead.core.models import AuditLog
from hotlead.providers.enums import ProviderStatus
from hotlead.providers.models import Provider, ServiceArea
from tests.factories.leads import CategoryFactory
from tests.factories.providers import ProviderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup():
    roofing = CategoryFactory(slug="roofing", name="Roofing")
    plumbing = CategoryFactory(slug="plumbing", name="Plumbing")
    CategoryFactory(slug="retired", name="Retired", active=False)
    provider = ProviderFactory(categories=[roofing], areas=["94110", "941*"], balance_cents=2500)
    token, _ = access_token_encode(user=provider.user, mfa=False)
    return provider, token, roofing, plumbing


PROFILE = {"company_name": "New Name LLC", "contact_name": "Sam Pro", "phone": "+1 (415) 555-0199",
           "categories": ["plumbing", "roofing"], "timezone": "America/Chicago"}


def test_get_profile(api, setup):
    provider, token, *_ = setup
    body = api.get("/provider/profile", token=token).json()
    assert body == {
        "id": provider.pk, "email": provider.user.email, "status": "active", "company_name": provider.company_name,
        "contact_name": "Alex Pro", "phone": "+14155550100", "categories": ["roofing"],
        "timezone": "America/Los_Angeles", "webhook_url": None, "mfa_enabled": False,
    }


def test_put_profile_replaces_the_fields_and_audits(api, setup):
    provider, token, *_ = setup
    # when
    response = api.put("/provider/profile", {**PROFILE, "webhook_url": "https://crm.example.com/hook"}, token=token)
    # then
    assert response.status_code == 200
    body = response.json()
    assert body["categories"] == ["plumbing", "roofing"] and body["phone"] == "+14155550199"
    assert body["timezone"] == "America/Chicago" and body["webhook_url"] == "https://crm.example.com/hook"
    provider.refresh_from_db()
    assert provider.company_name == "New Name LLC"
    entry = AuditLog.objects.get(action="provider.profile_updated")
    assert entry.changes["company_name"][1] == "New Name LLC"


def test_put_profile_without_webhook_keeps_it_and_null_clears_it(api, setup):
    provider, token, *_ = setup
    Provider.objects.filter(pk=provider.pk).update(webhook_url="https://keep.example.com/h")
    assert api.put("/provider/profile", PROFILE, token=token).json()["webhook_url"] == "https://keep.example.com/h"
    assert api.put("/provider/profile", {**PROFILE, "webhook_url": None}, token=token).json()["webhook_url"] is None


def _fields(response) -> dict[str, str]:
    assert response.status_code == 422, response.content
    return {f["field"]: f["message"] for f in response.json()["error"]["details"]["fields"]}


def test_bad_profile_input_lists_every_field_and_changes_nothing(api, setup):
    provider, token, *_ = setup
    # when
    response = api.put("/provider/profile", {
        "company_name": "", "contact_name": "Sam", "phone": "call me", "timezone": "Europe/Atlantis",
        "categories": ["roofing", "unknown-trade", "retired"], "webhook_url": "http://insecure.example.com",
    }, token=token)
    # then
    fields = _fields(response)
    assert set(fields) == {"company_name", "phone", "timezone", "categories.1", "categories.2", "webhook_url"}
    assert "unknown-trade" in fields["categories.1"]
    provider.refresh_from_db()
    assert provider.company_name.startswith("Pro Company") and provider.timezone == "America/Los_Angeles"
    assert list(provider.categories.values_list("slug", flat=True)) == ["roofing"]
    assert not AuditLog.objects.filter(action="provider.profile_updated").exists()


@pytest.mark.parametrize("url", [
    "https://localhost/hook", "https://api.localhost/hook", "https://127.0.0.1/hook", "https://127.1/hook",
    "https://2130706433/hook", "https://10.1.2.3:8443/hook", "https://192.168.0.10/hook",
    "https://169.254.169.254/latest/meta-data", "https://[::1]/hook", "https://[fd00::1]/hook",
    "https://0.0.0.0/hook", "https://example.com:99999/hook",
])
def test_a_webhook_url_on_this_machine_or_a_private_network_is_refused(api, setup, url):
    # given: a webhook already set
    provider, token, *_ = setup
    Provider.objects.filter(pk=provider.pk).update(webhook_url="https://keep.example.com/h")
    # when
    response = api.put("/provider/profile", {**PROFILE, "webhook_url": url}, token=token)
    # then
    assert list(_fields(response)) == ["webhook_url"]
    provider.refresh_from_db()
    assert provider.webhook_url == "https://keep.example.com/h" and provider.company_name != "New Name LLC"


def test_a_webhook_url_on_a_public_host_or_address_is_accepted(api, setup):
    _, token, *_ = setup
    for url in ("https://hooks.crm.example.com:8443/in?x=1", "https://8.8.8.8/hook"):
        response = api.put("/provider/profile", {**PROFILE, "webhook_url": url}, token=token)
        assert response.status_code == 200 and response.json()["webhook_url"] == url


def test_the_document_and_the_server_agree_on_the_webhook_url_length(api, setup, client):
    _, token, *_ = setup
    documented = client.get("/api/v1/openapi.json").json()["components"]["schemas"]["ProfileIn"]
    limit = next(option["maxLength"] for option in documented["properties"]["webhook_url"]["anyOf"]
                 if option.get("type") == "string")
    longest = "https://crm.example.com/" + "h" * (limit - len("https://crm.example.com/"))
    # when: the longest URL the document allows, then one character more
    accepted = api.put("/provider/profile", {**PROFILE, "webhook_url": longest}, token=token)
    refused = api.put("/provider/profile", {**PROFILE, "webhook_url": longest + "h"}, token=token)
    # then
    assert limit == 200
    assert accepted.status_code == 200 and accepted.json()["webhook_url"] == longest
    assert list(_fields(refused)) == ["webhook_url"]


@pytest.mark.parametrize("extra", [{"status": "active"}, {"role": "staff"}, {"balance_cents": 999999},
                                   {"suspended_reason": ""}, {"flagged": False}])
def test_mass_assignment_on_profile_is_refused(api, setup, extra):
    provider, token, *_ = setup
    Provider.objects.filter(pk=provider.pk).update(flagged=True)
    response = api.put("/provider/profile", {**PROFILE, **extra}, token=token)
    assert list(_fields(response)) == [next(iter(extra))]
    provider.refresh_from_db()
    assert provider.company_name != "New Name LLC" and provider.flagged is True
    assert provider.status == ProviderStatus.ACTIVE and provider.account.balance_cents == 2500


def test_service_areas_get_and_put_normalise(api, setup):
    provider, token, *_ = setup
    assert api.get("/provider/service-areas", token=token).json() == {"postal_codes": ["94110"], "prefixes": ["941"]}
    # when
    response = api.put("/provider/service-areas",
                       {"postal_codes": ["k1a 0b1", "94103", "94103", "10001-1234"], "prefixes": ["sw1*", "100"]},
                       token=token)
    # then
    assert response.status_code == 200
    assert response.json() == {"postal_codes": ["10001-1234", "94103", "K1A0B1"], "prefixes": ["100", "SW1"]}
    assert ServiceArea.objects.filter(provider=provider).count() == 5
    assert AuditLog.objects.filter(action="provider.service_areas_updated").count() == 1


@pytest.mark.parametrize("payload, bad_field", [
    ({"postal_codes": ["94110", "941 10!"], "prefixes": []}, "postal_codes.1"),
    ({"postal_codes": ["1"], "prefixes": []}, "postal_codes.0"),
    ({"postal_codes": ["<script>"], "prefixes": []}, "postal_codes.0"),
    ({"postal_codes": [], "prefixes": ["9-4"]}, "prefixes.0"),
    ({"postal_codes": [], "prefixes": [""]}, "prefixes.0"),
    ({"postal_codes": ["X" * 30], "prefixes": []}, "postal_codes.0"),
])
def test_malformed_postal_codes_are_refused_and_nothing_changes(api, setup, payload, bad_field):
    provider, token, *_ = setup
    response = api.put("/provider/service-areas", payload, token=token)
    assert bad_field in _fields(response)
    assert sorted(ServiceArea.objects.filter(provider=provider).values_list("value", flat=True)) == ["941", "94110"]


def test_service_areas_refuse_extra_fields(api, setup):
    _provider, token, *_ = setup
    response = api.put("/provider/service-areas", {"postal_codes": [], "prefixes": [], "provider_id": 1}, token=token)
    assert "provider_id" in _fields(response)


def test_notification_preferences(api, setup):
    provider, token, *_ = setup
    assert api.get("/provider/notification-preferences", token=token).json() == {
        "assignment_email": "instant", "low_balance_threshold_cents": 5000}
    response = api.put("/provider/notification-preferences",
                       {"assignment_email": "daily_digest", "low_balance_threshold_cents": 1200}, token=token)
    assert response.json() == {"assignment_email": "daily_digest", "low_balance_threshold_cents": 1200}
    provider.refresh_from_db()
    assert provider.notify_assignments == "daily_digest" and provider.low_balance_threshold_cents == 1200


@pytest.mark.parametrize("payload", [
    {"assignment_email": "sms", "low_balance_threshold_cents": 100},
    {"assignment_email": "off", "low_balance_threshold_cents": -1},
    {"assignment_email": "off"},
    {"assignment_email": "off", "low_balance_threshold_cents": 100, "billing_emails": "off"},
])
def test_bad_notification_preferences_change_nothing(api, setup, payload):
    provider, token, *_ = setup
    assert api.put("/provider/notification-preferences", payload, token=token).status_code == 422
    provider.refresh_from_db()
    assert provider.notify_assignments == "instant" and provider.low_balance_threshold_cents == 5000


@pytest.mark.parametrize("method, path", [
    ("get", "/provider/profile"), ("put", "/provider/profile"), ("get", "/provider/service-areas"),
    ("put", "/provider/service-areas"), ("get", "/provider/notification-preferences"),
    ("put", "/provider/notification-preferences"), ("post", "/provider/mfa/setup"), ("post", "/provider/mfa/confirm"),
])
def test_provider_endpoints_need_a_provider_token(api, staff_headers, method, path):
    assert api.call(method, path, {}).status_code == 401
    response = api.call(method, path, {}, **staff_headers)
    assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden"


def test_a_pending_provider_token_is_refused(api, setup):
    provider, token, *_ = setup
    Provider.objects.filter(pk=provider.pk).update(status=ProviderStatus.PENDING_VERIFICATION)
    response = api.get("/provider/profile", token=token)
    assert response.status_code == 403 and response.json()["error"]["code"] == "email_not_verified"
