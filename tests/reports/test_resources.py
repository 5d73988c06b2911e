"""The console's import-export lists speak the report exports' language, and never export a live formula."""
from __future__ import annotations

import pytest

from reports import sources
from reports.ranges import DateRange
from reports.resources import LeadHumanResource, LedgerHumanResource
from tests.factories.leads import LeadFactory
from tests.factories.providers import ProviderFactory
from tests.reports.conftest import DATE_FROM, DATE_TO

pytestmark = pytest.mark.django_db


def test_ledger_headers_match_the_report_export():
    report_headers = [c.header for c in sources.ledger(DateRange(DATE_FROM, DATE_TO)).columns]
    console_headers = LedgerHumanResource().get_export_headers()
    assert console_headers[:len(report_headers)] == report_headers


def test_lead_headers_are_human_and_text_is_neutralised():
    LeadFactory(name="=cmd|' /C calc'!A0", description="+SUM(1)", budget_cents=150050)
    dataset = LeadHumanResource().export()
    assert "Budget ($)" in dataset.headers and "budget_cents" not in dataset.headers
    row = dict(zip(dataset.headers, dataset[0], strict=True))
    assert row["Name"] == "'=cmd|' /C calc'!A0" and row["Description"] == "'+SUM(1)"
    assert str(row["Budget ($)"]) == "1500.50"
    assert row["Phone"].startswith("'+1")


def test_console_xlsx_export_has_no_formula(tmp_path):
    import openpyxl
    from import_export.formats.base_formats import XLSX

    ProviderFactory(company_name="=HYPERLINK(\"http://x\")", balance_cents=700)
    data = XLSX().export_data(LedgerHumanResource().export())
    path = tmp_path / "ledger.xlsx"
    path.write_bytes(data)
    sheet = openpyxl.load_workbook(path).active
    company = sheet.cell(row=2, column=3)
    assert company.data_type == "s" and company.value.startswith("'=")
    assert sheet.cell(row=2, column=6).value == 7
