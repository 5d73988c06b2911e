"""Admin providers API: list (filters, cursor), detail, update, suspend, reinstate; RBAC (SPEC §8.1)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from hotlead.accounts.services import auth_login
from hotlead.accounts.tokens import access_token_encode
from hotlead.core.models import AuditLog
from hotlead.providers.enums import ProviderStatus
from hotlead.providers.models import Provider, ServiceArea
from tests.accounts.helpers import API
from tests.factories.accounts import PASSWORD, StaffFactory
from tests.factories.distribution import make_assignment
from tests.factories.leads import CategoryFactory
from tests.factories.providers import ProviderFactory

pytestmark = pytest.mark.django_db


def _get(client, path, headers, **params):
    return client.get(f"{API}{path}", data=params, **headers)


def _post(client, path, headers, body):
    return client.post(f"{API}{path}", data=body, content_type="application/json", **headers)


def _put(client, path, headers, body):
    return client.put(f"{API}{path}", data=body, content_type="application/json", **headers)


def test_list_shows_balance_categories_areas_and_last_lead_without_n_plus_one(
        client, staff_headers, django_assert_max_num_queries):
    # given
    roofing = CategoryFactory(slug="roofing")
    busy = ProviderFactory(balance_cents=5000, categories=[roofing], areas=["94110", "941*", "10001"])
    when = timezone.now() - timedelta(hours=2)
    make_assignment(provider=busy, assigned_at=when - timedelta(days=1))
    latest = make_assignment(provider=busy, assigned_at=when)
    for _ in range(5):
        ProviderFactory(categories=[roofing], areas=["10001"])
    # when
    with django_assert_max_num_queries(6):
        response = _get(client, "/admin/providers", staff_headers, limit=50)
    # then
    assert response.status_code == 200
    items = response.json()["items"]
    assert len(items) == 6 and response.json()["next_cursor"] is None
    row = next(i for i in items if i["id"] == busy.pk)
    assert row["categories"] == ["roofing"] and row["areas_count"] == 3
    assert row["balance_cents"] == 5000  # funded, then two charges each funded by their own deposit
    assert row["last_assigned_at"].startswith(latest.assigned_at.strftime("%Y-%m-%dT%H:%M:%S"))
    assert [i["id"] for i in items] == sorted((i["id"] for i in items), reverse=True)


def test_list_filters_and_paginates_with_a_cursor(client, staff_headers):
    # given
    plumbing = CategoryFactory(slug="plumbing")
    active = [ProviderFactory(categories=[plumbing]) for _ in range(5)]
    suspended = ProviderFactory(status=ProviderStatus.SUSPENDED, company_name="Shady Pipes")
    # when: pages of 2 over the active plumbing providers
    seen, cursor = [], None
    for _ in range(4):
        params = {"status": "active", "category": "plumbing", "limit": 2, **({"cursor": cursor} if cursor else {})}
        body = _get(client, "/admin/providers", staff_headers, **params).json()
        seen += [i["id"] for i in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    # then
    assert seen == sorted((p.pk for p in active), reverse=True)
    found = _get(client, "/admin/providers", staff_headers, q="shady").json()["items"]
    assert [i["id"] for i in found] == [suspended.pk]
    bad = _get(client, "/admin/providers", staff_headers, cursor="!!!")
    assert bad.status_code == 422 and bad.json()["error"]["details"]["fields"][0]["field"] == "cursor"
    assert _get(client, "/admin/providers", staff_headers, status="bogus").status_code == 422


def test_detail_and_404(client, staff_headers):
    provider = ProviderFactory(areas=["94110", "941*"])
    body = _get(client, f"/admin/providers/{provider.pk}", staff_headers).json()
    assert body["id"] == provider.pk and body["postal_codes"] == ["94110"] and body["prefixes"] == ["941"]
    assert body["email"] == provider.user.email and body["mfa_enabled"] is False
    missing = _get(client, "/admin/providers/999999", staff_headers)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


def test_update_replaces_profile_areas_and_preferences(client, staff_headers, staff_user):
    # given
    CategoryFactory(slug="hvac")
    provider = ProviderFactory(areas=["94110"])
    body = {"company_name": "Fixed Name", "contact_name": "C", "phone": "+14155550111", "categories": ["hvac"],
            "timezone": "UTC", "service_areas": {"postal_codes": ["60601"], "prefixes": ["606"]},
            "notification_preferences": {"assignment_email": "off", "low_balance_threshold_cents": 0}}
    # when
    response = _put(client, f"/admin/providers/{provider.pk}", staff_headers, body)
    # then
    assert response.status_code == 200
    data = response.json()
    assert data["company_name"] == "Fixed Name" and data["postal_codes"] == ["60601"] and data["prefixes"] == ["606"]
    assert data["assignment_email"] == "off" and data["categories"] == ["hvac"]
    assert AuditLog.objects.filter(action="provider.profile_updated", actor=staff_user).count() == 1


def test_update_is_all_or_nothing(client, staff_headers):
    # given: a valid profile but a bad area
    provider = ProviderFactory(areas=["94110"])
    body = {"company_name": "Fixed Name", "contact_name": "C", "phone": "+14155550111", "categories": [],
            "timezone": "UTC", "service_areas": {"postal_codes": ["bad code!"], "prefixes": []}}
    # when
    response = _put(client, f"/admin/providers/{provider.pk}", staff_headers, body)
    # then
    assert response.status_code == 422
    provider.refresh_from_db()
    assert provider.company_name != "Fixed Name"
    assert list(ServiceArea.objects.filter(provider=provider).values_list("value", flat=True)) == ["94110"]


@pytest.mark.parametrize("extra", [{"status": "suspended"}, {"balance_cents": 1}, {"role": "staff"}])
def test_update_refuses_mass_assignment(client, staff_headers, extra):
    provider = ProviderFactory()
    body = {"company_name": "X", "contact_name": "C", "phone": "+14155550111", "categories": [], "timezone": "UTC",
            **extra}
    response = _put(client, f"/admin/providers/{provider.pk}", staff_headers, body)
    assert response.status_code == 422
    provider.refresh_from_db()
    assert provider.status == ProviderStatus.ACTIVE and provider.company_name != "X"


def test_suspend_cuts_the_provider_off_and_reinstate_restores(client, staff_headers, staff_user):
    # given
    provider = ProviderFactory()
    pair = auth_login(email=provider.user.email, password=PASSWORD)
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {pair.access_token}"}
    # when
    response = _post(client, f"/admin/providers/{provider.pk}/suspend", staff_headers, {"reason": "Fraud check"})
    # then
    assert response.status_code == 200 and response.json()["status"] == "suspended"
    assert response.json()["suspended_reason"] == "Fraud check"
    refused = _get(client, "/provider/profile", bearer)
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "account_suspended"
    assert _post(client, "/auth/refresh", {}, {"refresh_token": pair.refresh_token}).status_code == 401
    again = _post(client, f"/admin/providers/{provider.pk}/suspend", staff_headers, {"reason": "again"})
    assert again.status_code == 409
    entry = AuditLog.objects.get(action="provider.suspended")
    assert entry.actor_id == staff_user.pk and entry.changes["reason"] == "Fraud check"
    # when: reinstated
    back = _post(client, f"/admin/providers/{provider.pk}/reinstate", staff_headers, {"reason": "Cleared"})
    # then
    assert back.status_code == 200 and back.json()["status"] == "active"
    assert _get(client, "/provider/profile", bearer).status_code == 200
    assert AuditLog.objects.filter(action="provider.reinstated").count() == 1


def test_suspend_needs_a_reason(client, staff_headers):
    provider = ProviderFactory()
    response = _post(client, f"/admin/providers/{provider.pk}/suspend", staff_headers, {"reason": ""})
    assert response.status_code == 422
    assert Provider.objects.get(pk=provider.pk).status == ProviderStatus.ACTIVE


def test_reinstating_an_active_provider_is_a_conflict(client, staff_headers):
    provider = ProviderFactory()
    response = _post(client, f"/admin/providers/{provider.pk}/reinstate", staff_headers, {"reason": "x"})
    assert response.status_code == 409 and response.json()["error"]["code"] == "conflict"


@pytest.mark.parametrize("method, path", [
    ("get", "/admin/providers"), ("get", "/admin/providers/1"), ("put", "/admin/providers/1"),
    ("post", "/admin/providers/1/suspend"), ("post", "/admin/providers/1/reinstate"),
])
def test_admin_provider_endpoints_rbac(client, provider_headers, method, path):
    # no token
    call = getattr(client, method)
    kwargs = {"content_type": "application/json"} if method != "get" else {}
    assert call(f"{API}{path}", **kwargs).status_code == 401
    # a provider's token
    response = call(f"{API}{path}", **kwargs, **provider_headers)
    assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden"
    # a staff token issued without MFA
    token, _ = access_token_encode(user=StaffFactory(), mfa=False)
    assert call(f"{API}{path}", **kwargs, HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 403
