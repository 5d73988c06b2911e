"""Subscriptions through the provider API and the services: validation, uniqueness, status changes."""
from __future__ import annotations

import threading

import pytest
from django.db import connection

from hotlead.core.exceptions import Conflict
from hotlead.levels.models import Subscription
from hotlead.levels.services.subscriptions import (
    subscription_cancel,
    subscription_create,
    subscription_pause,
    subscription_resume,
)
from tests.factories.leads import CategoryFactory
from tests.factories.levels import LevelFactory, SubscriptionFactory
from tests.factories.providers import ProviderFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/provider/subscriptions"


def _post(client, headers, body):
    return client.post(URL, body, content_type="application/json", **headers)


def _patch(client, headers, pk, body):
    return client.patch(f"{URL}/{pk}", body, content_type="application/json", **headers)


@pytest.fixture
def semi(db):
    return LevelFactory(slug="semi", name="Semi-exclusive", rank=1, price_cents=6000, max_recipients=3)


def test_create_a_funded_subscription_with_everything(client, provider, provider_headers, semi):
    # given a provider with 100.00
    from hotlead.billing.services.ledger import deposit_post

    deposit_post(provider_id=provider.pk, amount_cents=10_000, key="fund")
    CategoryFactory(slug="roofing")
    # when
    response = _post(client, provider_headers, {
        "level": "semi",
        "filters": [{"field": "category", "op": "eq", "value": "roofing"},
                    {"field": "postal_code", "op": "prefix", "value": "941"}],
        "daily_cap": 2, "weekly_cap": 10, "monthly_cap": 30, "monthly_budget_cents": 120_000,
        "schedule": {"days": [4, 0], "start": "08:00", "end": "18:00"},
    })
    # then
    assert response.status_code == 201, response.content
    body = response.json()
    assert {k: body[k] for k in ("level", "status", "daily_cap", "weekly_cap", "monthly_cap", "monthly_budget_cents",
                                 "schedule", "price_cents", "timezone")} == {
        "level": "semi", "status": "active", "daily_cap": 2, "weekly_cap": 10, "monthly_cap": 30,
        "monthly_budget_cents": 120_000, "schedule": {"days": [0, 4], "start": "08:00", "end": "18:00"},
        "price_cents": 6000, "timezone": provider.timezone,
    }
    assert body["filters"][1] == {"field": "postal_code", "op": "prefix", "value": "941"}
    stored = Subscription.objects.get(pk=body["id"])
    assert (stored.provider_id, stored.level_id, stored.status) == (provider.pk, semi.pk, "active")


def test_an_unfunded_subscription_starts_inactive(client, provider, provider_headers, semi):
    response = _post(client, provider_headers, {"level": "semi"})
    assert response.status_code == 201
    assert response.json()["status"] == "inactive_funds"
    assert "balance below $60.00" in response.json()["status_reason"]


def test_a_bad_filter_is_a_422_naming_the_filter(client, provider_headers, semi):
    response = _post(client, provider_headers, {"level": "semi", "filters": [
        {"field": "postal_code", "op": "eq", "value": "94110"},
        {"field": "budget_cents", "op": "between", "value": [500, 100]},
    ]})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert error["details"]["fields"] == [{
        "field": "filters.1.value", "message": "The value of 'budget_cents between' must have lo <= hi.",
        "filter": {"index": 1, "field": "budget_cents", "op": "between"},
    }]
    assert not Subscription.objects.exists()


@pytest.mark.parametrize(("body", "field"), [
    ({"level": "nope"}, "level"),
    ({"level": "semi", "daily_cap": 0}, "daily_cap"),
    ({"level": "semi", "daily_cap": "3"}, "daily_cap"),
    ({"level": "semi", "daily_cap": 10, "weekly_cap": 5}, "daily_cap"),
    ({"level": "semi", "monthly_budget_cents": 5000}, "monthly_budget_cents"),
    ({"level": "semi", "schedule": {"days": [1], "start": "09:00", "end": "9pm"}}, "schedule.end"),
    ({"level": "semi", "status": "active"}, "status"),
])
def test_bad_subscriptions_are_422_naming_the_field(client, provider_headers, semi, body, field):
    response = _post(client, provider_headers, body)
    assert response.status_code == 422, response.content
    assert field in [f["field"] for f in response.json()["error"]["details"]["fields"]]
    assert not Subscription.objects.exists()


def test_one_live_subscription_per_level(client, provider, provider_headers, semi):
    first = _post(client, provider_headers, {"level": "semi"})
    second = _post(client, provider_headers, {"level": "semi"})
    assert second.status_code == 409
    assert second.json()["error"]["details"] == {"level": "semi", "subscription_id": first.json()["id"]}
    # after cancelling, the provider may subscribe again
    assert client.delete(f"{URL}/{first.json()['id']}", **provider_headers).status_code == 204
    assert _post(client, provider_headers, {"level": "semi"}).status_code == 201
    assert Subscription.objects.filter(provider=provider).count() == 2


def test_archived_or_inactive_levels_cannot_be_subscribed(client, provider_headers):
    LevelFactory(slug="off", rank=1, active=False)
    assert _post(client, provider_headers, {"level": "off"}).status_code == 422


def test_patch_changes_only_what_is_sent_and_null_clears(client, provider, provider_headers, semi):
    subscription = SubscriptionFactory(provider=provider, level=semi, daily_cap=3, weekly_cap=10)
    response = _patch(client, provider_headers, subscription.pk, {"daily_cap": None, "monthly_cap": 50})
    assert response.status_code == 200
    body = response.json()
    assert (body["daily_cap"], body["weekly_cap"], body["monthly_cap"]) == (None, 10, 50)


def test_patch_pause_and_resume(client, provider, provider_headers, semi):
    from hotlead.billing.services.ledger import deposit_post

    subscription = SubscriptionFactory(provider=provider, level=semi)
    paused = _patch(client, provider_headers, subscription.pk, {"status": "paused"})
    assert paused.status_code == 200 and paused.json()["status"] == "paused" and paused.json()["paused_at"]
    # resuming without funds goes to inactive_funds
    assert _patch(client, provider_headers, subscription.pk, {"status": "active"}).json()["status"] == "inactive_funds"
    deposit_post(provider_id=provider.pk, amount_cents=6000, key="fund")
    subscription.refresh_from_db()
    assert subscription.status == "active"


def test_patch_cannot_change_the_level_or_set_other_fields(client, provider, provider_headers, semi):
    other = LevelFactory(slug="shared", rank=2)
    subscription = SubscriptionFactory(provider=provider, level=semi)
    assert _patch(client, provider_headers, subscription.pk, {"level": other.slug}).status_code == 422
    assert _patch(client, provider_headers, subscription.pk, {"provider_id": 1}).status_code == 422
    assert _patch(client, provider_headers, subscription.pk, {"status": "cancelled"}).status_code == 422
    subscription.refresh_from_db()
    assert (subscription.level_id, subscription.status) == (semi.pk, "active")


def test_a_cancelled_subscription_cannot_be_changed(client, provider, provider_headers, semi):
    subscription = SubscriptionFactory(provider=provider, level=semi, status="cancelled")
    response = _patch(client, provider_headers, subscription.pk, {"status": "active"})
    assert response.status_code == 409 and response.json()["error"]["code"] == "conflict"


def test_another_providers_subscription_is_404_everywhere(client, provider_headers, semi):
    theirs = SubscriptionFactory(level=semi)
    assert _patch(client, provider_headers, theirs.pk, {"daily_cap": 1}).status_code == 404
    assert client.delete(f"{URL}/{theirs.pk}", **provider_headers).status_code == 404
    assert client.get(URL, **provider_headers).json()["items"] == []
    theirs.refresh_from_db()
    assert (theirs.daily_cap, theirs.status) == (None, "active")


def test_list_paginates_and_hides_cancelled_unless_asked(client, provider, provider_headers):
    levels = [LevelFactory(slug=f"l{i}", rank=i + 1) for i in range(3)]
    subs = [SubscriptionFactory(provider=provider, level=level) for level in levels]
    subscription_cancel(subscription_id=subs[2].pk)
    page1 = client.get(f"{URL}?limit=1", **provider_headers).json()
    assert [s["id"] for s in page1["items"]] == [subs[0].pk] and page1["next_cursor"]
    page2 = client.get(f"{URL}?limit=1&cursor={page1['next_cursor']}", **provider_headers).json()
    assert [s["id"] for s in page2["items"]] == [subs[1].pk] and page2["next_cursor"] is None
    cancelled = client.get(f"{URL}?status=cancelled", **provider_headers).json()
    assert [s["id"] for s in cancelled["items"]] == [subs[2].pk]
    for bad in ("abc", "²", "-1", "9" * 30):  # "²".isdigit() is true, int("²") is not
        response = client.get(URL, {"cursor": bad}, **provider_headers)
        assert response.status_code == 422 and response.json()["error"]["details"]["fields"][0]["field"] == "cursor"


def test_services_pause_resume_cancel_are_idempotent_and_cancel_is_final(semi):
    provider = ProviderFactory(balance_cents=6000)
    subscription = SubscriptionFactory(provider=provider, level=semi)
    assert subscription_pause(subscription_id=subscription.pk).status == "paused"
    assert subscription_pause(subscription_id=subscription.pk).status == "paused"
    assert subscription_resume(subscription_id=subscription.pk).status == "active"
    assert subscription_cancel(subscription_id=subscription.pk).status == "cancelled"
    assert subscription_cancel(subscription_id=subscription.pk).status == "cancelled"
    with pytest.raises(Conflict):
        subscription_resume(subscription_id=subscription.pk)
    with pytest.raises(Conflict):
        subscription_pause(subscription_id=subscription.pk)


def test_provider_api_requires_a_provider(client, staff_headers):
    assert client.get(URL).status_code == 401
    assert client.get(URL, **staff_headers).status_code == 403


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_creates_at_one_level_make_one_subscription():
    level = LevelFactory(slug="solo", rank=1)
    provider = ProviderFactory()
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def create():
        try:
            barrier.wait()
            subscription_create(provider=provider, level="solo")
            outcomes.append("created")
        except Conflict:
            outcomes.append("conflict")
        finally:
            connection.close()

    threads = [threading.Thread(target=create) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["conflict", "created"]
    assert Subscription.objects.filter(provider=provider, level=level).count() == 1
