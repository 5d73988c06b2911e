"""Spreadsheet writers and the row sources of every export (SPEC §10), streamed so memory stays flat.

- Big sources (leads, assignments, ledger) are one SQL query read through a server-side cursor in chunks.
  For csv the database formats every cell (money as 12.34, dates in the site's time zone, formula-injection
  guard), so Python only hands chunks to `csv.writer.writerows`; for xlsx it returns typed values (cents,
  local timestamps) that xlsxwriter writes in `constant_memory` mode, row by row.
- Small reports (kpis, funnel, revenue, starvation, flags) are computed by `reports.selectors` and written
  through the same writers, formatted in Python.

Spreadsheets people can use: human headers, money as numbers with a currency format, dates as real dates,
a frozen header row and an autofilter (xlsx), UTF-8 with BOM and CRLF (csv, RFC 4180). A text cell that
starts with = + - @ tab or CR is never evaluated: csv prefixes it with an apostrophe (OWASP's advice);
xlsx writes every text cell as a string cell, never as a formula.
"""
from __future__ import annotations

import csv
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from hotlead.core.money import CURRENCY_SYMBOLS

CHUNK_ROWS = 5000
XLSX_MAX_ROWS = 1_048_576  # per worksheet, header included; more rows continue on the next sheet
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

CURRENCY_FORMATS = {"USD": '"$"#,##0.00', "EUR": '"€"#,##0.00', "GBP": '"£"#,##0.00',
                    "CAD": '"CA$"#,##0.00', "AUD": '"A$"#,##0.00'}


def currency() -> str:
    return settings.HOTLEAD.get("CURRENCY", "USD")


def money_header(label: str) -> str:
    """ "Price" → "Price ($)" in the site's currency."""
    code = currency()
    return f"{label} ({CURRENCY_SYMBOLS.get(code, code)})"


def neutralise(text: str) -> str:
    """A text cell no spreadsheet evaluates: a leading = + - @ tab or CR gets an apostrophe in front."""
    if text and text[0] in FORMULA_TRIGGERS:
        return "'" + text
    return text


def _neutralise_sql(expr: str) -> str:
    return (f"CASE WHEN left({expr}, 1) IN ('=', '+', '-', '@', chr(9), chr(13)) "
            f"THEN '''' || {expr} ELSE {expr} END")


# --- columns ---------------------------------------------------------------------------------------------

KINDS = ("text", "int", "number", "money", "datetime", "date", "ratio")


@dataclass(frozen=True)
class Column:
    header: str
    kind: str = "text"
    expr: str = ""  # SQL expression (SQL sources only)
    width: int = 16

    def csv_sql(self) -> str:
        x = self.expr
        if self.kind == "text":
            return _neutralise_sql(f"coalesce(({x})::text, '')")
        if self.kind == "money":
            return f"(({x})::numeric / 100)::numeric(20, 2)::text"
        if self.kind == "datetime":
            return f"to_char(({x}) AT TIME ZONE %(tz)s, 'YYYY-MM-DD HH24:MI:SS')"
        if self.kind == "date":
            return f"to_char({x}, 'YYYY-MM-DD')"
        return x

    def typed_sql(self, *, postgres: bool = True) -> str:
        x = self.expr
        if self.kind == "text":
            return f"CAST(({x}) AS TEXT)"
        if self.kind == "datetime" and postgres:
            return f"({x}) AT TIME ZONE %(tz)s"
        return x

    def typed_value(self, value):
        """A value of the SQLite demo's typed query as PostgreSQL's would be (local naive datetimes)."""
        if value is None or self.kind != "datetime" or isinstance(value, datetime):
            return _local_naive(value) if isinstance(value, datetime) else value

        parsed = parse_datetime(str(value))
        if parsed is not None and timezone.is_naive(parsed):
            parsed = timezone.make_aware(parsed, UTC)
        return _local_naive(parsed) if parsed else value


def _local_naive(value: datetime) -> datetime:
    if timezone.is_aware(value):
        value = timezone.localtime(value, timezone.get_default_timezone())
    return value.replace(tzinfo=None)


def csv_cell(column: Column, value) -> object:
    """One cell as the csv writer gets it (Python-side sources)."""
    if value is None:
        return ""
    if column.kind == "text":
        return neutralise(str(value))
    if column.kind == "money":
        return str((Decimal(int(value)) / 100).quantize(Decimal("0.01")))
    if column.kind == "datetime":
        return _local_naive(value).strftime("%Y-%m-%d %H:%M:%S") if isinstance(value, datetime) else str(value)
    if column.kind == "date":
        return value.isoformat() if isinstance(value, date) else str(value)
    return value


# --- sources ---------------------------------------------------------------------------------------------

@dataclass
class Source:
    """What one export writes: a sheet title, its columns, and its rows in chunks."""

    title: str
    columns: list[Column]
    sql: str = ""  # FROM/WHERE/ORDER part: "FROM … WHERE … ORDER BY …"
    params: dict = field(default_factory=dict)
    rows: list[tuple] | None = None  # small, Python-computed sources

    @property
    def streamed(self) -> bool:
        return self.rows is None

    def _select(self, *, typed: bool, postgres: bool = True) -> str:
        cells = ", ".join(c.typed_sql(postgres=postgres) if typed else c.csv_sql() for c in self.columns)
        return f"SELECT {cells} {self.sql}"

    def _params(self) -> dict:
        return {"tz": str(timezone.get_default_timezone()), **self.params}

    def count(self) -> int:
        if not self.streamed:
            return len(self.rows)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM (SELECT 1 {self.sql}) AS q", self._params())
            return int(cursor.fetchone()[0])

    def chunks(self, *, typed: bool, size: int = CHUNK_ROWS) -> Iterator[list[tuple]]:
        """Rows in chunks; streamed sources through a server-side cursor (constant memory)."""
        if not self.streamed:
            for i in range(0, len(self.rows), size):
                chunk = self.rows[i:i + size]
                yield chunk if typed else [tuple(csv_cell(c, v) for c, v in zip(self.columns, row, strict=True))
                                           for row in chunk]
            return
        postgres = connection.vendor == "postgresql"
        with connection.chunked_cursor() as cursor:
            # The SQLite demo has none of PostgreSQL's formatting functions: it reads typed rows and formats
            # them in Python, like the small reports.
            cursor.execute(self._select(typed=typed or not postgres, postgres=postgres), self._params())
            while True:
                chunk = cursor.fetchmany(size)
                if not chunk:
                    break
                if not postgres:
                    chunk = [tuple(c.typed_value(v) for c, v in zip(self.columns, row, strict=True)) for row in chunk]
                    if not typed:
                        chunk = [tuple(csv_cell(c, v) for c, v in zip(self.columns, row, strict=True))
                                 for row in chunk]
                yield chunk

    def copy_sql(self) -> str:
        """The same csv rows for PostgreSQL's COPY (the benchmark's baseline), with the parameters inlined."""
        with connection.cursor() as cursor:
            return cursor.mogrify(self._select(typed=False), self._params())


# --- writers ---------------------------------------------------------------------------------------------

Progress = Callable[[int], None]


def write_csv(*, source: Source, path: Path, progress: Progress | None = None) -> int:
    """UTF-8 with BOM (Excel reads the encoding), CRLF line ends and minimal quoting (RFC 4180)."""
    written = 0
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
        writer.writerow([c.header for c in source.columns])
        for chunk in source.chunks(typed=False):
            writer.writerows(chunk)
            written += len(chunk)
            if progress:
                progress(written)
    return written


def write_xlsx(*, source: Source, path: Path, progress: Progress | None = None) -> int:
    """xlsxwriter in constant_memory mode: each row is flushed to disk as soon as the next one starts."""
    import xlsxwriter  # lazy: only the export job writes workbooks; web processes never load xlsxwriter

    workbook = xlsxwriter.Workbook(str(path), {
        "constant_memory": True, "strings_to_formulas": False, "strings_to_numbers": False,
        "strings_to_urls": False, "remove_timezone": True, "tmpdir": str(path.parent),
    })
    header_fmt = workbook.add_format({"bold": True, "bg_color": "#E5E7EB", "bottom": 1})
    formats = {
        "money": workbook.add_format({"num_format": CURRENCY_FORMATS.get(currency(), "#,##0.00")}),
        "datetime": workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"}),
        "date": workbook.add_format({"num_format": "yyyy-mm-dd"}),
        "ratio": workbook.add_format({"num_format": "0.00%"}),
        "int": workbook.add_format({"num_format": "#,##0"}),
        "number": workbook.add_format({"num_format": "#,##0.00"}),
    }
    columns = source.columns
    ncols = len(columns)
    state = {"sheet": None, "row": 0, "number": 0}

    def new_sheet():
        if state["sheet"] is not None:
            state["sheet"].autofilter(0, 0, state["row"] - 1, ncols - 1)
        state["number"] += 1
        name = source.title[:31] if state["number"] == 1 else f"{source.title[:26]} ({state['number']})"
        sheet = workbook.add_worksheet(name)
        for i, column in enumerate(columns):
            sheet.set_column(i, i, column.width)
        sheet.freeze_panes(1, 0)
        for i, column in enumerate(columns):
            sheet.write_string(0, i, column.header, header_fmt)
        state["sheet"], state["row"] = sheet, 1

    def cell_writer(column: Column):
        kind, fmt = column.kind, formats.get(column.kind)
        if kind == "text":
            return lambda ws, r, c, v: ws.write_string(r, c, str(v))  # a string cell: never evaluated
        if kind == "money":
            return lambda ws, r, c, v: ws.write_number(r, c, int(v) / 100, fmt)
        if kind == "datetime":
            return lambda ws, r, c, v: ws.write_datetime(r, c, _local_naive(v), fmt)
        if kind == "date":
            return lambda ws, r, c, v: ws.write_datetime(r, c, datetime(v.year, v.month, v.day), fmt)
        return lambda ws, r, c, v: ws.write_number(r, c, v, fmt)

    writers = [cell_writer(c) for c in columns]
    new_sheet()
    written = 0
    for chunk in source.chunks(typed=True):
        for values in chunk:
            if state["row"] >= XLSX_MAX_ROWS:
                new_sheet()
            sheet, row = state["sheet"], state["row"]
            for col, (write, value) in enumerate(zip(writers, values, strict=True)):
                if value is not None and value != "":
                    write(sheet, row, col, value)
            state["row"] = row + 1
        written += len(chunk)
        if progress:
            progress(written)
    state["sheet"].autofilter(0, 0, max(state["row"] - 1, 0), ncols - 1)
    workbook.close()
    return written


def write_export(*, source: Source, fmt: str, path: Path, progress: Progress | None = None) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    rows = (write_xlsx if fmt == "xlsx" else write_csv)(source=source, path=tmp, progress=progress)
    os.replace(tmp, path)  # a half-written file never carries the final name
    return rows


CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
