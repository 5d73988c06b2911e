"""In a real browser: a failed form post in the portal, then a reload, shows the page with its error — never the
browser's "HTTP ERROR 405" (POST-redirect-GET)."""
from __future__ import annotations

import re

from tests.factories.accounts import PASSWORD
from tests.factories.distribution import make_assignment
from tests.factories.levels import LevelFactory
from tests.factories.providers import ProviderFactory


def test_reload_after_a_failed_reject_is_no_405(page, transactional_db):
    provider = ProviderFactory(company_name="Ridge Roofing")
    assignment = make_assignment(provider=provider, level=LevelFactory(name="Exclusive", price_cents=3750))
    page.goto("/portal/login/")
    page.fill("input[name='auth-username']", provider.user.email)
    page.fill("input[name='auth-password']", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r".*/portal/$"))
    page.goto(f"/portal/leads/{assignment.pk}/")

    page.get_by_test_id("reject").click()  # no reason given
    page.wait_for_url(f"**/portal/leads/{assignment.pk}/")
    assert "This field is required" in page.content()

    response = page.reload()
    assert response.status == 200 and "405" not in page.title()
    assert page.get_by_test_id("reject-form").is_visible()
    response = page.goto(f"/portal/leads/{assignment.pk}/reject/")  # the action URL itself, by GET
    assert response.status == 200 and page.url.endswith(f"/portal/leads/{assignment.pk}/")
