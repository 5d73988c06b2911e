"""The portal's leads, billing and subscription pages, through Django's test client (real views and templates)."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from hotlead.core.models import AuditLog
from hotlead.levels.models import Subscription
from tests.factories.distribution import make_assignment
from tests.factories.leads import LeadFactory
from tests.factories.levels import LevelFactory, SubscriptionFactory
from tests.factories.providers import ProviderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def portal(provider) -> Client:
    client = Client()
    client.force_login(provider.user)
    return client


def test_pages_require_a_portal_login(client):
    for url in ("/portal/", "/portal/inbox/", "/portal/billing/", "/portal/subscriptions/", "/portal/leads/1/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/portal/login/"), url


def test_home_shows_balance_warning_kpis_and_chart(portal, provider, shared_level):
    # given: two leads bought in the last days; the balance (0) is below the default threshold
    make_assignment(provider=provider, level=shared_level, assigned_at=timezone.now() - timedelta(days=1))
    make_assignment(provider=provider, level=shared_level)

    # when
    response = portal.get("/portal/")

    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="low-balance"' in html and "below your alert threshold of $50.00" in html
    assert re.search(r'data-testid="kpi-received">\s*2\s*<', html)
    assert re.search(r'data-testid="kpi-spend">\s*\$120\.00\s*<', html)
    assert html.count('class="chart__bar"') == 2
    assert "cdn" not in html.lower() and "https://" not in html


def test_home_without_low_balance_has_no_warning(provider):
    funded = ProviderFactory(balance_cents=10_000)
    client = Client()
    client.force_login(funded.user)

    html = client.get("/portal/").content.decode()

    assert 'data-testid="low-balance"' not in html
    assert "No leads in this period." in html


def test_inbox_lists_the_buyers_leads_with_how_to_reach_them_and_pages_by_cursor(portal, provider, shared_level):
    # given: 55 leads, one page of 50 then 5
    now = timezone.now()
    sold = [make_assignment(provider=provider, level=shared_level, assigned_at=now - timedelta(minutes=i),
                            lead=LeadFactory(status="distributed", email=f"secret{i}@example.org"))
            for i in range(55)]

    # when
    first = portal.get("/portal/inbox/")
    older_link = re.search(r'href="\?([^"]+)" rel="next"', first.content.decode()).group(1)
    second = portal.get(f"/portal/inbox/?{older_link.replace('&amp;', '&')}")

    # then
    first_ids = [int(i) for i in re.findall(r'data-assignment-id="(\d+)"', first.content.decode())]
    second_ids = [int(i) for i in re.findall(r'data-assignment-id="(\d+)"', second.content.decode())]
    assert first_ids == [a.pk for a in sold[:50]] and second_ids == [a.pk for a in sold[50:]]
    # issue 14: the buyer's own rows carry the homeowner's e-mail and phone as links; the next page's do not
    # leak onto this one
    assert 'href="mailto:secret0@example.org"' in first.content.decode()
    assert "secret50@example.org" not in first.content.decode()
    assert 'rel="next"' not in second.content.decode()
    assert "1 of 3" in first.content.decode()


def test_inbox_filters_and_refuses_a_bad_cursor_gracefully(portal, provider, shared_level):
    accepted = make_assignment(provider=provider, level=shared_level, status="accepted")
    make_assignment(provider=provider, level=shared_level)

    filtered = portal.get("/portal/inbox/?status=accepted").content.decode()
    bad_cursor = portal.get("/portal/inbox/?cursor=garbage")
    bad_dates = portal.get("/portal/inbox/?date_from=2026-02-10&date_to=2026-02-01")

    assert re.findall(r'data-assignment-id="(\d+)"', filtered) == [str(accepted.pk)]
    assert bad_cursor.status_code == 200 and "no longer valid" in bad_cursor.content.decode()
    assert "must not be before" in bad_dates.content.decode()
    until_the_end = portal.get("/portal/inbox/?date_to=9999-12-31")
    assert until_the_end.status_code == 200
    assert len(re.findall(r'data-assignment-id="(\d+)"', until_the_end.content.decode())) == 2


def test_lead_page_shows_contact_sold_to_and_the_report_button(portal, provider, shared_level):
    lead = LeadFactory(status="distributed", name="Dana Roof", email="dana@example.org", phone="+14155550111")
    mine = make_assignment(lead=lead, provider=provider, level=shared_level)
    make_assignment(lead=lead, provider=ProviderFactory(), level=shared_level)

    html = portal.get(f"/portal/leads/{mine.pk}/").content.decode()

    assert "Dana Roof" in html and "mailto:dana@example.org" in html and "tel:+14155550111" in html
    assert re.search(r'data-testid="sold-to">Sold to 2 of 3<', html)
    assert f'href="/portal/leads/{mine.pk}/report/"' in html
    assert 'data-testid="accept"' in html and 'data-testid="reject"' in html


def test_another_providers_lead_is_404_on_every_portal_page(portal, shared_level):
    theirs = make_assignment(provider=ProviderFactory(), level=shared_level)

    assert portal.get(f"/portal/leads/{theirs.pk}/").status_code == 404
    assert portal.post(f"/portal/leads/{theirs.pk}/accept/").status_code == 404
    assert portal.post(f"/portal/leads/{theirs.pk}/reject/", {"reason": "mine now"}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == "assigned"


def test_accept_then_accept_again_explains_the_conflict(portal, provider, shared_level):
    assignment = make_assignment(provider=provider, level=shared_level)

    accepted = portal.post(f"/portal/leads/{assignment.pk}/accept/", follow=True)
    again = portal.post(f"/portal/leads/{assignment.pk}/accept/", follow=True)

    assert "Lead accepted" in accepted.content.decode()
    assert "already accepted" in again.content.decode()
    assignment.refresh_from_db()
    assert assignment.status == "accepted"
    assert AuditLog.objects.filter(action="assignment.accept").count() == 1


def test_reject_needs_a_reason(portal, provider, shared_level):
    assignment = make_assignment(provider=provider, level=shared_level)

    missing = portal.post(f"/portal/leads/{assignment.pk}/reject/", {"reason": ""})
    # POST-redirect-GET: the lead page shows the form's error; a reload is a plain GET (never a 405)
    assert missing.status_code == 302 and missing["Location"] == f"/portal/leads/{assignment.pk}/"
    assert "This field is required" in portal.get(missing["Location"]).content.decode()
    assert "This field is required" not in portal.get(missing["Location"]).content.decode()  # shown once
    assert portal.get(f"/portal/leads/{assignment.pk}/reject/").status_code == 302
    given = portal.post(f"/portal/leads/{assignment.pk}/reject/", {"reason": "Outside our hours"}, follow=True)

    assert "Lead rejected" in given.content.decode() and "Outside our hours" in given.content.decode()
    assignment.refresh_from_db()
    assert (assignment.status, assignment.reject_reason) == ("rejected", "Outside our hours")


def test_posts_are_csrf_protected(provider, shared_level):
    assignment = make_assignment(provider=provider, level=shared_level)
    client = Client(enforce_csrf_checks=True)
    client.force_login(provider.user)

    response = client.post(f"/portal/leads/{assignment.pk}/accept/")

    assert response.status_code == 403
    assignment.refresh_from_db()
    assert assignment.status == "assigned"


def test_billing_lists_charges_with_their_lead(portal, provider, shared_level):
    assignment = make_assignment(provider=provider, level=shared_level)

    html = portal.get("/portal/billing/").content.decode()
    charges = portal.get("/portal/billing/?kind=charge").content.decode()

    assert html.count('data-testid="ledger-row"') == 2  # the funding deposit and the charge
    assert 'data-kind="charge"' in html and "-$60.00" in html and "+$60.00" in html
    assert f'href="/portal/leads/{assignment.pk}/"' in html
    assert charges.count('data-testid="ledger-row"') == 1


def test_billing_page_query_count_does_not_grow_with_entries(portal, provider, shared_level,
                                                              django_assert_max_num_queries):
    for _ in range(12):
        make_assignment(provider=provider, level=shared_level)

    with django_assert_max_num_queries(12):
        response = portal.get("/portal/billing/")

    assert response.content.decode().count('data-testid="ledger-row"') == 24


def test_subscription_create_with_filters_caps_and_schedule(portal, provider, shared_level, roofing):
    # when: the filters in the buyer's words (issue 14)
    response = portal.post("/portal/subscriptions/new/", {
        "level": "semi-exclusive", "daily_cap": "3", "weekly_cap": "", "monthly_cap": "40",
        "monthly_budget": "1,500", "days": ["0", "1", "2", "3", "4"], "start": "08:00", "end": "18:30",
        "filters-categories": ["roofing"], "filters-timelines": ["asap", "flexible"],
        "filters-budget_min": "$1,000", "filters-budget_max": "5000.50",
        "filters-postal_prefixes": "941\n 94 6, 941",
    }, follow=True)

    # then: the same SPEC §4.4 filters underneath
    assert response.status_code == 200, response.content.decode()[:2000]
    subscription = Subscription.objects.get(provider=provider)
    assert subscription.filters == [
        {"field": "category", "op": "in", "value": ["roofing"]},
        {"field": "timeline", "op": "in", "value": ["asap", "flexible"]},
        {"field": "budget_cents", "op": "between", "value": [100000, 500050]},
        {"field": "postal_code", "op": "prefix", "value": ["941", "946"]},
    ]
    assert (subscription.daily_cap, subscription.weekly_cap, subscription.monthly_cap) == (3, None, 40)
    assert subscription.monthly_budget_cents == 150000
    assert subscription.schedule == {"days": [0, 1, 2, 3, 4], "start": "08:00", "end": "18:30"}
    # unfunded: the status says why it receives nothing
    assert subscription.status == "inactive_funds"
    assert "Inactive: balance below $60.00" in response.content.decode()
    listed = portal.get("/portal/subscriptions/").content.decode()  # on the list itself, not only a flash message
    assert re.search(r'data-testid="subscription-reason">Inactive: balance below \$60\.00, the price of a lead at '
                     r'Semi-exclusive\.<', listed)
    # the list reads in the buyer's words too
    assert "Budget between $1,000.00 and $5,000.50" in listed and "Timeline: ASAP" in listed
    assert "ZIP code starts with 941 or 946" in listed


def test_the_edit_page_shows_the_stored_filters_in_the_controls_and_keeps_the_others(portal, provider):
    level = LevelFactory(name="Shared", slug="shared", rank=3, price_cents=2500, max_recipients=5)
    subscription = SubscriptionFactory(provider=provider, level=level, status="active", filters=[
        {"field": "budget_cents", "op": "gte", "value": 100000},
        {"field": "timeline", "op": "eq", "value": "asap"},
        {"field": "source", "op": "ne", "value": "facebook"},
    ])

    page = portal.get(f"/portal/subscriptions/{subscription.pk}/").content.decode()
    assert re.search(r'name="filters-budget_min" value="1000"', page)
    assert re.search(r'<input type="checkbox" name="filters-timelines" value="asap"[^>]*checked', page)
    assert "Source is not facebook" in page  # shown, and kept on save

    portal.post(f"/portal/subscriptions/{subscription.pk}/", {
        "level": "shared", "filters-timelines": ["asap"], "filters-budget_max": "20000"})
    subscription.refresh_from_db()
    assert subscription.filters == [
        {"field": "timeline", "op": "in", "value": ["asap"]},
        {"field": "budget_cents", "op": "lte", "value": 2000000},
        {"field": "source", "op": "ne", "value": "facebook"},
    ]


def test_subscription_form_errors_name_the_control_in_plain_words(portal, provider, shared_level):
    response = portal.post("/portal/subscriptions/new/", {
        "level": "semi-exclusive", "filters-budget_min": "a thousand", "filters-budget_max": "",
        "filters-timelines": ["someday"],
    })

    html = response.content.decode()
    assert response.status_code == 422
    assert "Minimum budget: “a thousand” is not an amount in dollars. Write it like 1000 or $1,000." in html
    assert "Select a valid choice. someday is not one of the available choices." in html
    assert not Subscription.objects.filter(provider=provider).exists()

    response = portal.post("/portal/subscriptions/new/", {
        "level": "semi-exclusive", "daily_cap": "9", "weekly_cap": "2",
        "filters-budget_min": "5000", "filters-budget_max": "1000", "filters-postal_prefixes": "94*",
    })
    html = response.content.decode()
    assert response.status_code == 422
    assert "Maximum budget: it must not be below the minimum budget." in html
    assert "ZIP code prefixes: “94*” is not the start of a ZIP code" in html
    assert not Subscription.objects.filter(provider=provider).exists()

    response = portal.post("/portal/subscriptions/new/", {"level": "semi-exclusive", "daily_cap": "9",
                                                          "weekly_cap": "2"})
    assert response.status_code == 422
    assert "daily_cap (9) cannot exceed weekly_cap (2)" in response.content.decode()


@pytest.mark.parametrize(("fields", "message"), [
    ({"monthly_budget": "NaN"}, "is not an amount in dollars."),
    ({"monthly_budget": "-Infinity"}, "is not an amount in dollars."),
    ({"monthly_budget": "1e400"}, "is more than $10,000,000."),
    ({"filters-budget_min": "sNaN"}, "is not an amount in dollars."),
    ({"filters-budget_max": "Infinity"}, "is not an amount in dollars."),
])
def test_amounts_that_are_not_numbers_are_a_form_error_not_a_500(portal, provider, shared_level, fields, message):
    response = portal.post("/portal/subscriptions/new/", {"level": "semi-exclusive", **fields})

    assert response.status_code == 422
    assert message in response.content.decode()
    assert not Subscription.objects.filter(provider=provider).exists()


def test_pause_resume_cancel_and_edit(portal, provider):
    # given: a funded provider's active subscription
    level = LevelFactory(name="Shared", slug="shared", rank=3, price_cents=2500, max_recipients=5)
    from hotlead.billing.services.ledger import deposit_post

    deposit_post(provider_id=provider.pk, amount_cents=10_000, key="fund-subs")
    subscription = SubscriptionFactory(provider=provider, level=level, status="active")

    # when / then: pause
    paused = portal.post(f"/portal/subscriptions/{subscription.pk}/pause/", follow=True).content.decode()
    subscription.refresh_from_db()
    assert subscription.status == "paused" and "Paused: no leads until you resume." in paused

    # resume
    portal.post(f"/portal/subscriptions/{subscription.pk}/resume/")
    subscription.refresh_from_db()
    assert subscription.status == "active"

    # edit: a cap and a filter
    edit = portal.post(f"/portal/subscriptions/{subscription.pk}/", {
        "level": "shared", "daily_cap": "5", "filters-postal_prefixes": "941",
    })
    assert edit.status_code == 302
    subscription.refresh_from_db()
    assert subscription.daily_cap == 5 and subscription.filters == [{"field": "postal_code", "op": "prefix",
                                                                     "value": "941"}]
    assert "941" in portal.get(f"/portal/subscriptions/{subscription.pk}/").content.decode()

    # cancel asks first, then cancels
    confirm = portal.get(f"/portal/subscriptions/{subscription.pk}/cancel/")
    assert confirm.status_code == 200 and 'data-testid="confirm-cancel"' in confirm.content.decode()
    subscription.refresh_from_db()
    assert subscription.status == "active"
    portal.post(f"/portal/subscriptions/{subscription.pk}/cancel/")
    subscription.refresh_from_db()
    assert subscription.status == "cancelled"
    assert str(subscription.pk) not in portal.get("/portal/subscriptions/").content.decode()
    assert f'data-subscription-id="{subscription.pk}"' in portal.get("/portal/subscriptions/?show=cancelled") \
        .content.decode()


def test_another_providers_subscription_is_404(portal):
    theirs = SubscriptionFactory(provider=ProviderFactory())

    for url in (f"/portal/subscriptions/{theirs.pk}/", f"/portal/subscriptions/{theirs.pk}/cancel/"):
        assert portal.get(url).status_code == 404
    for action in ("pause", "resume", "cancel"):
        assert portal.post(f"/portal/subscriptions/{theirs.pk}/{action}/").status_code == 404
    assert portal.get(f"/portal/subscriptions/{2**63}/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == "active"
