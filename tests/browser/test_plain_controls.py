"""In a real browser, desktop (1440×900) and phone (390×844), issue 14: every checkbox and radio button sits on
the same row as its label on every page that has one; a subscription made with the buyer's filter controls;
reject and report a bad lead in one step; the missed-leads notice."""
from __future__ import annotations

import re

import pytest

from hotlead.distribution.services.engine import lead_distribute
from hotlead.levels.models import Subscription
from hotlead.refunds.models import AutoApprovalRule, BadLeadReport
from tests.browser.test_portal_leads import portal_login
from tests.distribution.conftest import approved_lead, make_level
from tests.factories.distribution import make_assignment
from tests.factories.leads import CategoryFactory, LeadFactory
from tests.factories.providers import ProviderFactory

SIZES = {"desktop": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}

# For every visible checkbox and radio button: the box, and the words of its label. "Same row" means the box's
# vertical middle lies within the first line of the words, and the words start just right of the box.
MEASURE = r"""() => {
  const out = [];
  const boxes = [...document.querySelectorAll('input[type=checkbox], input[type=radio]')];
  for (const [index, box] of boxes.entries()) {
    const b = box.getBoundingClientRect();
    if (!b.width || !b.height) continue;
    const label = box.closest('label') || (box.id && document.querySelector(`label[for="${box.id}"]`));
    if (!label) { out.push({name: box.name, value: box.value, problem: 'no label'}); continue; }
    const words = (label.contains(box) && label.querySelector(':scope > span')) || label;
    const range = document.createRange();
    range.selectNodeContents(words);
    const first = range.getClientRects()[0] || words.getBoundingClientRect();
    out.push({
      index, name: box.name, value: box.value, text: words.textContent.trim().replace(/\s+/g, ' '),
      boxMiddle: b.top + b.height / 2, lineTop: first.top, lineBottom: first.bottom,
      gap: first.left - b.right,
    });
  }
  return out;
}"""


def assert_boxes_beside_their_labels(page, *, expect_at_least: int) -> list[dict]:
    measured = page.evaluate(MEASURE)
    assert len(measured) >= expect_at_least, (page.url, measured)
    wrong = [m for m in measured if m.get("problem") or not (
        m["lineTop"] - 1 <= m["boxMiddle"] <= m["lineBottom"] + 1 and 0 <= m["gap"] <= 48)]
    assert wrong == [], f"{page.url}: boxes not on their label's row: {wrong}"
    return measured


@pytest.fixture(params=list(SIZES))
def sized_page(request, page):
    page.set_viewport_size(SIZES[request.param])
    return page


@pytest.fixture
def categories(db):
    return [CategoryFactory(slug=slug, name=name) for slug, name in (
        ("roofing", "Roofing"), ("plumbing", "Plumbing"), ("electrical", "Electrical"), ("gutters", "Gutters"),
        ("painting", "Painting"), ("windows", "Windows"))]


def test_every_checkbox_and_radio_sits_on_its_labels_row(sized_page, categories):
    page = sized_page
    roofing = categories[0]
    level = make_level("shared", rank=1, price_cents=2_500, max_recipients=5)
    provider = ProviderFactory(categories=[roofing])
    assignment = make_assignment(provider=provider, level=level,
                                 lead=LeadFactory(status="distributed", category=roofing))

    # the public form (consent), signed out
    page.goto("/")
    assert_boxes_beside_their_labels(page, expect_at_least=1)

    portal_login(page, provider)
    expected = {
        "/portal/profile/": len(categories),
        "/portal/preferences/": 3,
        "/portal/subscriptions/new/": len(categories) + 3 + 7,  # services, timelines, days
        f"/portal/leads/{assignment.pk}/": 1 + 6,  # "also report it" and its reasons
        f"/portal/leads/{assignment.pk}/report/": 6,
    }
    for url, count in expected.items():
        page.goto(url)
        name = url.strip("/").replace("/", "-")
        page.screenshot(path=f"/tmp/plain-controls-{page.viewport_size['width']}-{name}.png", full_page=True)
        measured = assert_boxes_beside_their_labels(page, expect_at_least=count)
        # and a click on the words ticks the box beside them, not another one
        words = next(m for m in measured if m["text"])
        target = page.locator("input[type=checkbox], input[type=radio]").nth(words["index"])
        page.get_by_text(words["text"], exact=True).first.click()
        assert target.is_checked(), (url, words)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_create_a_subscription_with_the_buyers_filter_controls(sized_page, categories):
    page = sized_page
    make_level("shared", rank=1, price_cents=2_500, max_recipients=5)
    provider = ProviderFactory(balance_cents=10_000, categories=[categories[0]])

    portal_login(page, provider)
    page.goto("/portal/subscriptions/new/")
    page.get_by_label("Competition level").select_option("shared")
    filters = page.get_by_test_id("subscription-filters")
    filters.get_by_label("Roofing").check()
    filters.get_by_label("ASAP").check()
    filters.get_by_label("Minimum budget ($)").fill("$1,000")
    filters.get_by_label("ZIP code prefixes").fill("941\n946")
    page.get_by_test_id("save-subscription").click()

    page.wait_for_url("**/portal/subscriptions/")
    page.goto(f"/portal/subscriptions/{Subscription.objects.get(provider=provider).pk}/")
    page.screenshot(path=f"/tmp/plain-controls-{page.viewport_size['width']}-subscription-edit.png", full_page=True)
    page.goto("/portal/subscriptions/")
    card = page.get_by_test_id("subscription")
    text = card.inner_text()
    assert "Service: Roofing" in text and "Timeline: ASAP" in text
    assert "Budget is at least $1,000.00" in text and "ZIP code starts with 941 or 946" in text
    assert Subscription.objects.get(provider=provider).filters == [
        {"field": "category", "op": "in", "value": ["roofing"]},
        {"field": "timeline", "op": "in", "value": ["asap"]},
        {"field": "budget_cents", "op": "gte", "value": 100_000},
        {"field": "postal_code", "op": "prefix", "value": ["941", "946"]},
    ]

    # a typo is named in plain words next to its control
    page.goto("/portal/subscriptions/new/")
    page.get_by_test_id("subscription-filters").get_by_label("Maximum budget ($)").fill("lots")
    page.get_by_test_id("save-subscription").click()
    assert page.get_by_text("Maximum budget: “lots” is not an amount in dollars. Write it like 1000 or $1,000.") \
        .is_visible()


def test_reject_and_report_a_bad_lead_in_one_step(sized_page, categories):
    page = sized_page
    AutoApprovalRule.objects.update(enabled=False)
    provider = ProviderFactory()
    assignment = make_assignment(provider=provider, level=make_level("shared", rank=1, price_cents=2_500,
                                                                     max_recipients=5),
                                 lead=LeadFactory(status="distributed", category=categories[0]))

    portal_login(page, provider)
    page.goto(f"/portal/leads/{assignment.pk}/")
    assert "Rejecting alone does not refund the lead" in page.get_by_test_id("decision-help").inner_text()
    form = page.get_by_test_id("reject-form")
    form.get_by_label("Why do you reject this lead?").fill("The number is a bakery")
    form.get_by_label("Also report it as a bad lead").check()
    form.get_by_label("Wrong contact details").check()
    page.get_by_test_id("reject").click()

    page.wait_for_url("**/portal/reports/*/")
    assert page.get_by_test_id("report-status").inner_text() == "Pending"
    assert page.get_by_text("Lead rejected and reported as a bad lead").is_visible()
    assignment.refresh_from_db()
    assert assignment.status == "rejected"
    assert BadLeadReport.objects.get(assignment=assignment).reason == "wrong_contact"


def test_the_home_page_tells_of_leads_missed_for_a_low_balance(sized_page, categories):
    page = sized_page
    roofing = categories[0]
    level = make_level("semi-exclusive", rank=1, price_cents=6_000, max_recipients=1)
    provider = ProviderFactory(balance_cents=1_000, categories=[roofing], areas=["94110"])
    rival = ProviderFactory(balance_cents=100_000, categories=[roofing], areas=["94110"])
    for p in (provider, rival):
        Subscription.objects.create(provider=p, level=level)
    for _ in range(2):
        lead_distribute(lead_id=approved_lead(category=roofing).pk, trigger="approval")

    portal_login(page, provider)
    page.screenshot(path=f"/tmp/plain-controls-{page.viewport_size['width']}-home.png", full_page=True)
    notice = page.get_by_test_id("missed-leads")
    assert re.sub(r"\s+", " ", notice.inner_text()).startswith(
        "You missed 2 leads in the last 7 days because your balance was below $60.00.")
    notice.get_by_role("link", name=re.compile("Top up")).click()
    page.wait_for_url("**/portal/billing/")
