"""In a real browser: staff run a what-if simulation in the console and read the comparison."""
from __future__ import annotations

import re

from hotlead.levels.models import CompetitionLevel
from hotlead.simulator.models import SimulationRun, SimulationStatus
from tests.browser.conftest import console_login
from tests.factories.accounts import PASSWORD, StaffFactory, totp_device_for


def test_staff_run_a_synthetic_what_if_and_see_baseline_beside_scenario(page):
    # given: the three levels of SPEC §2 and a staff member with an authenticator
    for name, slug, rank, price, most in (("Exclusive", "exclusive", 1, 12_000, 1),
                                          ("Semi-exclusive", "semi-exclusive", 2, 6_000, 3),
                                          ("Shared", "shared", 3, 2_500, 5)):
        CompetitionLevel.objects.create(name=name, slug=slug, rank=rank, price_cents=price, max_recipients=most)
    staff = StaffFactory()
    device = totp_device_for(staff)
    console_login(page, email=staff.email, password=PASSWORD, device=device)

    # when: they open the simulator from the sidebar, pick a small market and sell Shared to one buyer
    page.goto("/admin/")
    page.get_by_role("link", name="What-if simulator").click()
    page.wait_for_url("**/admin/simulator/simulationrun/")
    page.goto("/admin/simulator/simulationrun/add/")
    page.fill("input[name='providers']", "15")
    page.fill("input[name='leads']", "40")
    page.fill("input[name='seed']", "3")
    page.fill("input[name='days']", "3")
    assert page.input_value("input[name='max_shared']") == "5"  # prefilled with today's settings
    page.fill("input[name='max_shared']", "1")
    page.fill("input[name='price_exclusive']", "15000")
    page.get_by_role("button", name="Run the simulation").click()

    # then: the run's page shows baseline beside scenario, with charts, and the run is kept with its inputs
    page.wait_for_url(re.compile(r".*/admin/simulator/simulationrun/\d+/change/$"))
    page.wait_for_selector("#simulation-summary", timeout=60_000)
    summary = page.locator("#simulation-summary").inner_text()
    assert "Sell-through" in summary and "Revenue" in summary
    assert page.locator("canvas").count() >= 2
    run = SimulationRun.objects.get()
    assert run.status == SimulationStatus.DONE
    assert run.scenario == {"levels": {"exclusive": {"price_cents": 15000}, "shared": {"max_recipients": 1}}}
    assert "price_cents" in page.locator("#simulation-inputs").inner_text()
    page.screenshot(path="/tmp/simulator-run.png", full_page=True)
    page.get_by_role("link", name="All simulations").click()
    page.wait_for_url("**/admin/simulator/simulationrun/")
    assert "Done" in page.content()
