"""A report page in a real browser: the chart draws, the table totals, Export polls to a download link and the
downloaded spreadsheet is the report."""
from __future__ import annotations

import csv
import io

from tests.browser.conftest import console_login
from tests.factories.accounts import PASSWORD, StaffFactory, totp_device_for
from tests.reports.conftest import market  # noqa: F401 - the hand-built market fixture


def test_revenue_page_chart_table_and_export_download(page, market, settings, tmp_path):  # noqa: F811
    settings.EXPORTS_ROOT = tmp_path / "exports"
    staff = StaffFactory()
    device = totp_device_for(staff)
    console_login(page, email=staff.email, password=PASSWORD, device=device)

    # the sidebar leads to the report page; the range form keeps its values
    page.goto("/admin/reports/revenue/?date_from=2026-03-01&date_to=2026-03-10&group_by=level")
    chart = page.locator('[data-chart="revenue"] canvas.chart')
    chart.wait_for()
    assert page.evaluate("() => !!Chart.getChart(document.querySelector('[data-chart=\"revenue\"] canvas'))")
    rows = page.locator("[data-report-table] tbody tr")
    assert rows.last.inner_text().split() == ["Total", "3", "$170.00", "$85.00", "$85.00"]

    # Export as CSV: the job is queued, its progress polled, then the link appears
    page.check("input[name='format'][value='csv']")
    page.click("#export-button")
    link = page.locator("#export-download")
    link.wait_for(state="visible")
    assert "Done: 4 rows." in page.locator("#export-status").inner_text()
    with page.expect_download() as info:
        link.click()
    download = info.value
    assert download.suggested_filename == "hotlead-revenue-2026-03-01-2026-03-10.csv"
    with open(download.path(), encoding="utf-8-sig") as handle:
        text = handle.read()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["Level", "Assignments", "Charges ($)", "Refunds ($)", "Net ($)"]
    assert rows[-1] == ["Total", "3", "170.00", "85.00", "85.00"]

    page.screenshot(path="/tmp/console-report-revenue.png", full_page=True)

    # My exports lists it
    page.goto("/admin/reports/exportjob/")
    assert page.locator("[data-download]").count() == 1
