"""The console's levels and subscriptions pages: ordered, moved, archived with confirmation; price changes confirmed."""
from __future__ import annotations

import pytest

from hotlead.core.models import AuditLog
from hotlead.levels.models import CompetitionLevel, Subscription
from tests.factories.levels import LevelFactory, SubscriptionFactory
from tests.factories.providers import ProviderFactory

pytestmark = pytest.mark.django_db

LEVELS = "/admin/levels/competitionlevel/"
SUBSCRIPTIONS = "/admin/levels/subscription/"


def _form(level, **overrides) -> dict:
    data = {"name": level.name, "slug": level.slug, "rank": level.rank, "price_cents": level.price_cents,
            "max_recipients": level.max_recipients, "active": "on" if level.active else ""}
    return {**data, **overrides}


def test_levels_list_in_rank_order(staff_console):
    LevelFactory(slug="shared", name="Shared", rank=3)
    LevelFactory(slug="exclusive", name="Exclusive", rank=1)
    html = staff_console.get(LEVELS).content.decode()
    assert html.index("Exclusive") < html.index("Shared")


def test_create_a_level_in_the_console_at_a_taken_rank(staff_console, staff_user):
    LevelFactory(slug="exclusive", rank=1)
    response = staff_console.post(f"{LEVELS}add/", {"name": "Premium", "slug": "premium", "rank": 1,
                                                    "price_cents": 15000, "max_recipients": 1, "active": "on"})
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    assert dict(CompetitionLevel.objects.values_list("slug", "rank")) == {"premium": 1, "exclusive": 2}
    assert AuditLog.objects.filter(action="level.created", actor=staff_user).count() == 1


def test_a_price_change_needs_confirmation(staff_console, staff_user):
    level = LevelFactory(slug="semi", rank=1, price_cents=6000)
    SubscriptionFactory(level=level)
    unconfirmed = staff_console.post(f"{LEVELS}{level.pk}/change/", _form(level, price_cents=7000))
    assert unconfirmed.status_code == 200
    errors = unconfirmed.context["adminform"].form.errors["confirm_price_change"]
    assert "from $60.00 to $70.00 for 1 live subscription(s)" in errors[0]
    level.refresh_from_db()
    assert level.price_cents == 6000
    confirmed = staff_console.post(f"{LEVELS}{level.pk}/change/",
                                   _form(level, price_cents=7000, confirm_price_change="on"))
    assert confirmed.status_code == 302
    level.refresh_from_db()
    assert level.price_cents == 7000
    assert AuditLog.objects.get(action="level.updated").changes == {"price_cents": {"from": 6000, "to": 7000}}


def test_other_changes_need_no_price_confirmation(staff_console):
    level = LevelFactory(slug="semi", rank=1)
    assert staff_console.post(f"{LEVELS}{level.pk}/change/", _form(level, name="Semi")).status_code == 302
    level.refresh_from_db()
    assert level.name == "Semi"


def test_console_validates_like_the_api(staff_console):
    response = staff_console.post(f"{LEVELS}add/", {"name": "X", "slug": "Not A Slug", "rank": 1, "price_cents": 0,
                                                    "max_recipients": 1})
    form_errors = response.context["adminform"].form.errors
    assert set(form_errors) >= {"slug", "price_cents"}
    assert not CompetitionLevel.objects.exists()


def test_move_up_asks_then_moves(staff_console):
    LevelFactory(slug="a", rank=1)
    second = LevelFactory(slug="b", rank=2)
    url = f"{LEVELS}{second.pk}/move-up/"
    assert staff_console.get(url).status_code == 200
    assert dict(CompetitionLevel.objects.values_list("slug", "rank")) == {"a": 1, "b": 2}
    assert staff_console.post(url, {"confirm": "yes"}).status_code == 302
    assert dict(CompetitionLevel.objects.values_list("slug", "rank")) == {"a": 2, "b": 1}


def test_archive_asks_and_archives_a_used_level(staff_console, staff_user):
    level = LevelFactory(slug="old", rank=1)
    subscription = SubscriptionFactory(level=level)
    page = staff_console.get(f"{LEVELS}{level.pk}/archive/")
    assert "1 live subscription(s) at this level will be cancelled" in page.content.decode()
    level.refresh_from_db()
    assert level.archived_at is None
    assert staff_console.post(f"{LEVELS}{level.pk}/archive/", {"confirm": "yes"}).status_code == 302
    level.refresh_from_db()
    subscription.refresh_from_db()
    assert level.archived_at is not None and subscription.status == "cancelled"
    assert staff_console.post(f"{LEVELS}{level.pk}/delete/", {"post": "yes"}).status_code == 403


def test_subscription_pages_and_actions(staff_console, staff_user):
    provider = ProviderFactory(balance_cents=10_000)
    subscription = SubscriptionFactory(provider=provider, level=LevelFactory(slug="semi", rank=1, price_cents=6000))
    assert staff_console.get(SUBSCRIPTIONS).status_code == 200
    assert "Active: receiving leads at $60.00" in staff_console.get(f"{SUBSCRIPTIONS}{subscription.pk}/change/") \
        .content.decode()
    assert staff_console.get(f"{SUBSCRIPTIONS}{subscription.pk}/pause/").status_code == 200
    assert Subscription.objects.get(pk=subscription.pk).status == "active"
    staff_console.post(f"{SUBSCRIPTIONS}{subscription.pk}/pause/", {"confirm": "yes"})
    assert Subscription.objects.get(pk=subscription.pk).status == "paused"
    staff_console.post(f"{SUBSCRIPTIONS}{subscription.pk}/resume/", {"confirm": "yes"})
    assert Subscription.objects.get(pk=subscription.pk).status == "active"
    staff_console.post(f"{SUBSCRIPTIONS}{subscription.pk}/cancel/", {"confirm": "yes"})
    assert Subscription.objects.get(pk=subscription.pk).status == "cancelled"
    assert AuditLog.objects.filter(object_id=str(subscription.pk), actor=staff_user).count() == 3


def test_editing_a_subscription_validates_filters(staff_console):
    subscription = SubscriptionFactory(level=LevelFactory(slug="semi", rank=1, price_cents=6000))
    base = {"filters": "[]", "schedule": "null", "daily_cap": "", "weekly_cap": "", "monthly_cap": "",
            "monthly_budget_cents": ""}
    bad = staff_console.post(f"{SUBSCRIPTIONS}{subscription.pk}/change/",
                             {**base, "filters": '[{"field": "colour", "op": "eq", "value": "red"}]'})
    assert bad.status_code == 200
    assert bad.context["adminform"].form.errors["filters"][0].startswith(
        "Filter #0 (colour eq): Unknown field 'colour'")
    good = staff_console.post(f"{SUBSCRIPTIONS}{subscription.pk}/change/",
                              {**base, "filters": '[{"field": "postal_code", "op": "prefix", "value": "941"}]',
                               "daily_cap": "3"})
    assert good.status_code == 302
    subscription.refresh_from_db()
    assert subscription.filters == [{"field": "postal_code", "op": "prefix", "value": "941"}]
    assert subscription.daily_cap == 3
