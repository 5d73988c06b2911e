"""Synthetic markets: seeded, run through the real engine, compared under a scenario (SPEC §10.1)."""
from __future__ import annotations

import pytest

from hotlead.distribution.models import Assignment
from hotlead.levels.models import CompetitionLevel
from hotlead.simulator.report import gini
from hotlead.simulator.scenario import ScenarioInvalid
from hotlead.simulator.services.simulate import simulate_synthetic
from tests.simulator.conftest import row_counts

pytestmark = pytest.mark.django_db

MARKET = {"providers": 40, "leads": 160, "seed": 11, "days": 7}
ALL_ONE = {"levels": {slug: {"max_recipients": 1} for slug in ("exclusive", "semi-exclusive", "shared")}}


@pytest.fixture
def levels(exclusive, semi, shared):
    return [exclusive, semi, shared]


def test_same_seed_same_report_other_seed_other_market(levels):
    first = simulate_synthetic(**MARKET, scenario=ALL_ONE).report
    again = simulate_synthetic(**MARKET, scenario=ALL_ONE).report
    other = simulate_synthetic(**{**MARKET, "seed": 12}, scenario=ALL_ONE).report
    assert first == again
    assert first["baseline"]["sold"] > 0
    assert other["baseline"] != first["baseline"]


def test_nothing_real_is_written(levels):
    before = row_counts()
    simulate_synthetic(**MARKET, scenario={"levels": {"exclusive": {"price_cents": 20_000, "active": False}},
                                           "deposits": {"top_up_below_cents": 10_000, "top_up_cents": 50_000}})
    assert row_counts() == before
    assert CompetitionLevel.objects.get(slug="exclusive").price_cents == 12_000


def test_one_buyer_everywhere_changes_only_the_number_of_buyers(levels):
    result = simulate_synthetic(**MARKET, scenario=ALL_ONE)
    base, scen = result.baseline.assignments_by_lead(), result.scenario.assignments_by_lead()
    assert any(len(buyers) > 1 for buyers in base.values())  # the baseline does sell to several
    assert scen and all(len(buyers) == 1 for buyers in scen.values())
    prices = {lv.slug: lv.price_cents for lv in levels}
    assert all(charged == prices[slug] for buyers in scen.values() for _, slug, charged in buyers)  # prices kept
    assert len(result.baseline.leads) == len(result.scenario.leads) == MARKET["leads"]
    report = result.report["scenario"]
    assert report["assignments"] == report["sold"] and report["avg_buyers_per_lead"] == 1.0


def test_a_scenario_equal_to_the_market_is_the_baseline(levels):
    result = simulate_synthetic(**MARKET, scenario={"levels": {"shared": {"price_cents": 2_500, "active": True}}})
    assert result.report["scenario"] == result.report["baseline"]


def test_price_change_moves_revenue_by_the_level(levels):
    result = simulate_synthetic(**MARKET, scenario={"levels": {"exclusive": {"price_cents": 15_000}}})
    for side in (result.baseline, result.scenario):
        price = 12_000 if side is result.baseline else 15_000
        assert all(charged == price for buyers in side.assignments_by_lead().values()
                   for _, slug, charged in buyers if slug == "exclusive")


def test_conservation_revenue_is_the_sum_of_the_simulated_charges(levels):
    result = simulate_synthetic(**MARKET, scenario={"levels": {"semi-exclusive": {"price_cents": 7_000}},
                                                    "providers": {"balance_scale": 0.5}})
    for side, summary in ((result.baseline, result.report["baseline"]), (result.scenario, result.report["scenario"])):
        charges = [charged for *_, charged, _after, _at in side.sales]
        prices = [price for _k, _p, _s, _slug, price, *_ in side.sales]
        assert summary["revenue_cents"] == sum(charges) == sum(prices) > 0
        assert summary["revenue_cents"] == sum(p["spend_cents"] for p in summary["providers"])
        assert summary["revenue_cents"] == sum(lv["revenue_cents"] for lv in summary["by_level"].values())
        assert summary["assignments"] == sum(p["leads"] for p in summary["providers"]) == len(charges)
        assert summary["sold"] + summary["unsold"] == summary["leads"] == MARKET["leads"]
        assert sum(summary["unsold_by_reason"].values()) == summary["unsold"]
    # halving every balance leaves providers short sooner
    assert result.report["scenario"]["providers_out_of_funds"] >= result.report["baseline"]["providers_out_of_funds"]
    assert Assignment.objects.count() == 0


def test_unknown_level_or_field_is_refused_by_name(levels):
    with pytest.raises(ScenarioInvalid) as bad_slug:
        simulate_synthetic(**MARKET, scenario={"levels": {"platinum": {"price_cents": 1}}})
    assert "platinum" in bad_slug.value.message and bad_slug.value.details["fields"][0]["field"] == "levels.platinum"
    with pytest.raises(ScenarioInvalid) as bad_field:
        simulate_synthetic(**MARKET, scenario={"levels": {"shared": {"max_buyers": 1}}})
    assert bad_field.value.details["fields"][0]["field"] == "levels.shared.max_buyers"
    with pytest.raises(ScenarioInvalid) as bad_section:
        simulate_synthetic(**MARKET, scenario={"budgets": {}})
    assert "budgets" in bad_section.value.message
    with pytest.raises(ScenarioInvalid) as bad_value:
        simulate_synthetic(**MARKET, scenario={"levels": {"shared": {"max_recipients": 0}}})
    assert bad_value.value.details["fields"][0]["field"] == "levels.shared.max_recipients"


def test_gini():
    assert gini([5, 5, 5, 5]) == 0.0
    assert gini([0, 0, 0, 12]) == pytest.approx(0.75)
    assert gini([]) == 0.0


def test_a_new_order_of_levels(levels):
    result = simulate_synthetic(**MARKET, scenario={"levels": {"shared": {"rank": 1}}})
    base, scen = result.report["baseline"], result.report["scenario"]
    assert [lv["slug"] for lv in scen["levels"]] == ["shared", "exclusive", "semi-exclusive"]
    assert scen["by_level"]["shared"]["leads"] > base["by_level"]["shared"]["leads"]
    assert CompetitionLevel.objects.get(slug="shared").rank == 3  # nothing real changed
