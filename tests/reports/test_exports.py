"""Spreadsheets people can use, written as they stream: headers, money, dates, formula-injection guard."""
from __future__ import annotations

import csv
import io
from datetime import datetime

import openpyxl
import pytest

from reports import exports, sources
from reports.exports import neutralise, write_export
from reports.models import ExportJob
from reports.ranges import DateRange
from reports.services import export_request, export_run, exports_cleanup
from tests.reports.conftest import DATE_FROM, DATE_TO

pytestmark = pytest.mark.django_db
RNG = DateRange(DATE_FROM, DATE_TO)


@pytest.mark.parametrize(("text", "written"), [
    ("=1+1", "'=1+1"), ("+14155550100", "'+14155550100"), ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\tx", "'\tx"), ("\rx", "'\rx"), ("plain", "plain"), ("a=b", "a=b"), ("", ""),
])
def test_neutralise(text, written):
    assert neutralise(text) == written


def _csv_rows(path) -> list[list[str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


def test_csv_of_leads_has_human_headers_and_neutralises_formulas_in_sql(market, tmp_path):
    path = tmp_path / "leads.csv"
    rows_written = write_export(source=sources.leads_admin(RNG), fmt="csv", path=path)
    rows = _csv_rows(path)
    assert rows_written == 9 == len(rows) - 1
    assert rows[0][:4] == ["Submitted", "Status", "Lead ID", "Name"]
    assert "Budget ($)" in rows[0] and "budget_cents" not in rows[0]
    l6 = next(r for r in rows if r[3] == "'-2+3")
    assert l6[rows[0].index("Description")] == "'@SUM(A1:A2)"
    assert l6[rows[0].index("Phone")].startswith("'+1415")  # an E.164 phone starts with +: kept as text
    assert rows[1][0] == "2026-03-01 00:00:00"


def test_csv_ledger_money_and_company_guard(market, tmp_path):
    path = tmp_path / "ledger.csv"
    write_export(source=sources.ledger(DateRange(DATE_FROM, DATE_TO)), fmt="csv", path=path)
    rows = _csv_rows(path)
    header = rows[0]
    assert header == ["Entry #", "Date", "Company", "Provider #", "Kind", "Amount ($)", "Balance after ($)", "Memo",
                      "Reference"]
    amounts = sorted(r[5] for r in rows[1:])
    assert amounts == sorted(["-25.00", "-25.00", "-120.00", "60.00", "25.00"])
    assert {r[2] for r in rows[1:]} == {"'=HYPERLINK(\"http://evil\")", "Beta Roofing"}
    assert "'=1+1" in {r[7] for r in rows[1:]}
    # RFC 4180: CRLF line ends, quotes doubled inside a quoted field
    assert b'"\'=HYPERLINK(""http://evil"")"' in path.read_bytes() and b"\r\n" in path.read_bytes()


def test_xlsx_is_typed_frozen_filtered_and_never_evaluates_text(market, tmp_path):
    path = tmp_path / "ledger.xlsx"
    write_export(source=sources.ledger(DateRange(DATE_FROM, DATE_TO)), fmt="xlsx", path=path)
    book = openpyxl.load_workbook(path)
    sheet = book["Ledger"]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:I6"
    header = [c.value for c in sheet[1]]
    assert header[5] == "Amount ($)"
    values = list(sheet.iter_rows(min_row=2, values_only=False))
    amount_cells = [row[5] for row in values]
    assert sorted(c.value for c in amount_cells) == sorted([-25.0, -25.0, -120.0, 60.0, 25.0])
    assert all(c.data_type == "n" and "$" in c.number_format for c in amount_cells)
    assert all(isinstance(row[1].value, datetime) for row in values)
    company_cells = [row[2] for row in values]
    evil = next(c for c in company_cells if "HYPERLINK" in str(c.value))
    assert evil.data_type == "s" and evil.value == '=HYPERLINK("http://evil")'  # a string cell, not a formula
    memo = next(row[7] for row in values if row[7].value == "=1+1")
    assert memo.data_type == "s"
    assert b"<f>" not in _sheet_xml(path)


def _sheet_xml(path) -> bytes:
    import zipfile

    with zipfile.ZipFile(path) as archive:
        return b"".join(archive.read(n) for n in archive.namelist() if n.startswith("xl/worksheets/"))


def test_xlsx_continues_on_a_new_sheet_past_the_row_limit(market, tmp_path, monkeypatch):
    monkeypatch.setattr(exports, "XLSX_MAX_ROWS", 3)  # header + 2 rows per sheet
    monkeypatch.setattr(exports, "CHUNK_ROWS", 2)
    path = tmp_path / "leads.xlsx"
    assert write_export(source=sources.leads_admin(RNG), fmt="xlsx", path=path) == 9
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Leads", "Leads (2)", "Leads (3)", "Leads (4)", "Leads (5)"]
    assert sum(s.max_row - 1 for s in book.worksheets) == 9
    assert all(s["A1"].value == "Submitted" for s in book.worksheets)


def test_small_reports_export_with_totals(market, tmp_path):
    path = tmp_path / "revenue.csv"
    write_export(source=sources.revenue(RNG, "level"), fmt="csv", path=path)
    rows = _csv_rows(path)
    assert rows[0] == ["Level", "Assignments", "Charges ($)", "Refunds ($)", "Net ($)"]
    assert rows[-1] == ["Total", "3", "170.00", "85.00", "85.00"]
    kpis = tmp_path / "kpis.xlsx"
    write_export(source=sources.kpis_admin(RNG), fmt="xlsx", path=kpis)
    sheet = openpyxl.load_workbook(kpis).active
    row = {h.value: c.value for h, c in zip(sheet[1], sheet[2], strict=True)}
    assert row["Revenue ($)"] == 170.0 and row["Sell-through"] == 0.6667 and row["Submitted"] == 9


def test_streamed_sources_read_through_a_server_side_cursor_in_chunks(market, monkeypatch):
    from django.db import connection

    opened = []
    original = connection.chunked_cursor

    def spy():
        cursor = original()
        opened.append(cursor)
        return cursor

    monkeypatch.setattr(connection, "chunked_cursor", spy)
    chunks = list(sources.leads_admin(RNG).chunks(typed=False, size=4))
    assert [len(c) for c in chunks] == [4, 4, 1] and len(opened) == 1
    assert opened[0].cursor.name  # a named (server-side) cursor


def test_a_failed_export_says_so(db, staff_user, settings, tmp_path, monkeypatch,
                                 django_capture_on_commit_callbacks):
    settings.EXPORTS_ROOT = tmp_path
    monkeypatch.setattr("reports.sources.ledger", lambda *a, **k: 1 / 0)
    with django_capture_on_commit_callbacks(execute=True):
        job = export_request(actor=staff_user, report="ledger", fmt="csv")
    job.refresh_from_db()
    assert job.status == "failed" and "ZeroDivisionError" in job.error
    assert list(tmp_path.iterdir()) == []


def test_cleanup_deletes_expired_files_only(db, staff_user, settings, tmp_path, caplog):
    from datetime import timedelta

    from django.utils import timezone

    settings.EXPORTS_ROOT = tmp_path
    jobs = []
    for _ in range(2):
        job = ExportJob.objects.create(requested_by=staff_user, report="kpis", format="csv", date_from=DATE_FROM,
                                       date_to=DATE_TO, expires_at=timezone.now() + timedelta(days=1))
        export_run(job_id=job.pk)
        jobs.append(ExportJob.objects.get(pk=job.pk))
    ExportJob.objects.filter(pk=jobs[0].pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    summary = exports_cleanup()
    assert summary["deleted_files"] == 1 and summary["freed_bytes"] == jobs[0].size_bytes
    assert not (tmp_path / jobs[0].file_name).exists() and (tmp_path / jobs[1].file_name).exists()
    assert ExportJob.objects.get(pk=jobs[0].pk).file_deleted_at is not None
    assert "deleted 1 expired export file" in caplog.text
    assert exports_cleanup()["deleted_files"] == 0  # idempotent


def test_cleanup_is_scheduled_daily():
    from hotlead.ops.schedules import SCHEDULES

    entry = next(s for s in SCHEDULES if s["name"] == "reports.exports_cleanup")
    assert entry["every"] == "daily" and entry["func"] == "reports.tasks.exports_cleanup_job"


def _job(user, **fields):
    from datetime import timedelta

    from django.utils import timezone

    return ExportJob.objects.create(requested_by=user, report="kpis", format="csv", date_from=DATE_FROM,
                                    date_to=DATE_TO, expires_at=timezone.now() + timedelta(days=1), **fields)


def test_a_redelivered_job_does_not_run_twice_while_the_first_run_is_alive(db, staff_user, settings, tmp_path):
    from datetime import timedelta

    from django.utils import timezone

    settings.EXPORTS_ROOT = tmp_path
    alive = _job(staff_user, status="running", heartbeat_at=timezone.now() - timedelta(seconds=5))
    assert export_run(job_id=alive.pk) is None
    alive.refresh_from_db()
    assert alive.status == "running" and list(tmp_path.iterdir()) == []
    # a run whose worker died (no heartbeat for longer than EXPORT_STALE_SECONDS) starts again and finishes
    dead = _job(staff_user, status="running", heartbeat_at=timezone.now() - timedelta(minutes=5))
    assert export_run(job_id=dead.pk).status == "done"
    # a finished job is left alone
    assert export_run(job_id=dead.pk) is None


def test_cleanup_fails_jobs_that_will_never_finish(db, staff_user):
    from datetime import timedelta

    from django.utils import timezone

    stuck = _job(staff_user, status="running", heartbeat_at=timezone.now() - timedelta(hours=2))
    busy = _job(staff_user, status="running", heartbeat_at=timezone.now())
    assert exports_cleanup()["interrupted_jobs"] == 1
    stuck.refresh_from_db()
    busy.refresh_from_db()
    assert stuck.status == "failed" and "Interrupted" in stuck.error and busy.status == "running"


def test_export_jobs_get_their_own_timeout_in_the_broker(monkeypatch):
    import django_q.tasks

    from hotlead.ops import jobs

    sent = []
    monkeypatch.setattr(django_q.tasks, "async_task", lambda *a, **k: sent.append(k))
    monkeypatch.setattr(jobs, "_broker", lambda: None)
    jobs._push("reports.tasks.export_run_job", [1], {}, {"job_id": "x", "attempt": 1})
    jobs._push("reports.tasks.exports_cleanup_job", [], {}, {"job_id": "y", "attempt": 1})
    assert sent[0]["timeout"] == 3600 and "timeout" not in sent[1]
