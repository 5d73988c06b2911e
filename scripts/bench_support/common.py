"""Helpers shared by the benchmark scripts (`scripts/bench_<name>.py`).

A script puts the project root on sys.path and imports them as `scripts.bench_support.common`.
Nothing here imports Django or psycopg at module level: the scripts set up their environment first.
"""
from __future__ import annotations

import os
import socket
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

# ---- databases ----------------------------------------------------------------------------------------------

def url_for(url: str, db_name: str) -> str:
    """The PostgreSQL URL `url` with its database replaced by `db_name` (same server, user, options)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{db_name}", parts.query, parts.fragment))



def database_recreate(server: str, name: str) -> None:
    """Drop the database `name` on the server of `server` (if it exists) and create it empty."""
    import psycopg

    with psycopg.connect(url_for(server, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def database_drop(server: str, name: str) -> None:
    """Drop the database `name` on the server of `server`, if it exists."""
    import psycopg

    with psycopg.connect(url_for(server, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def database_prepare(server: str, db_name: str, sizes: str, *, rebuild: bool = False) -> bool:
    """Create the benchmark database `db_name` if needed; True when it must be (re)loaded.

    A database that exists is reused when its `bench_meta` row 'sizes' equals `sizes` (the script's data
    shape and sizes); `rebuild` drops it first. Any other existing database stops the run (exit 2).
    """
    import psycopg

    with psycopg.connect(url_for(server, "postgres"), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db_name]).fetchone()
        if exists and rebuild:
            conn.execute(f'DROP DATABASE "{db_name}" WITH (FORCE)')
            exists = None
        if not exists:
            conn.execute(f'CREATE DATABASE "{db_name}"')
            return True
    with psycopg.connect(url_for(server, db_name)) as conn:
        try:
            row = conn.execute("SELECT value FROM bench_meta WHERE key = 'sizes'").fetchone()
        except psycopg.errors.UndefinedTable:
            row = None
    if row and row[0] == sizes:
        return False
    print(f"database {db_name} holds other sizes ({row[0] if row else 'none'}); rebuild with --rebuild")
    sys.exit(2)


def django_setup(database_url: str, root: Path, *, allow_dev_secret: bool = True) -> None:
    """Point Django (test settings, quiet logs, bench metrics dir under `root`/var) at `database_url`; set it up."""
    os.environ["DATABASE_URL"] = database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "hotlead.settings.test"
    if allow_dev_secret:
        os.environ.setdefault("HOTLEAD_ALLOW_DEV_SECRET", "1")
    os.environ.setdefault("LOG_LEVEL", "WARNING")  # one JSON log line per request would be measured too
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(root / "var" / "prometheus-bench"))
    Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]).mkdir(parents=True, exist_ok=True)
    import django

    django.setup()


# ---- bulk load ----------------------------------------------------------------------------------------------

def insert_select(cursor, model, exprs: dict[str, str | tuple[str, list]], from_sql: str,
                  params: list | None = None) -> None:
    """INSERT INTO <model's table> (every concrete column) SELECT <expr or the field's default> FROM …

    An expression is SQL, or (SQL with %s, its parameters). Columns a benchmark does not care about
    get their model default, so fields added by other issues do not break the load (a new NOT NULL
    column without a default is reported clearly).
    """
    from django.db import connection

    columns, selects, values = [], [], []
    for field in model._meta.concrete_fields:
        name = field.name if field.name in exprs else field.attname
        if name in exprs:
            expr = exprs[name]
            sql_expr, expr_params = expr if isinstance(expr, tuple) else (expr, [])
            columns.append(field.column)
            selects.append(sql_expr)
            values.extend(expr_params)
        elif field.primary_key:
            continue
        elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            columns.append(field.column)
            selects.append("now()")
        elif field.null and not field.has_default():
            continue
        elif (default := field.get_default()) is not None:  # the model's default, or "" for text fields
            columns.append(field.column)
            selects.append("%s")
            values.append(field.get_db_prep_save(default, connection))
        else:
            raise SystemExit(f"{model._meta.label}.{field.name} is required and has no default: add it to the load")
    sql = (f'INSERT INTO "{model._meta.db_table}" ({", ".join(columns)}) '
           f'SELECT {", ".join(selects)} FROM {from_sql}')
    cursor.execute(sql, values + (params or []))


def ledger_charges_insert(cursor) -> None:
    """The charge ledger entry of every staged sale: entry id = bench_sale.g, balance after = the provider's
    deposit (bench_funding) minus its sales so far, in order of sale."""
    from hotlead.billing.models import LedgerEntry

    insert_select(cursor, LedgerEntry, {
        "id": "s.g", "account": "s.provider_id", "kind": "'charge'", "amount_cents": "-s.price",
        "balance_after_cents": "f.deposit - sum(s.price) OVER "
                               "(PARTITION BY s.provider_id ORDER BY s.assigned_at, s.g)",
        "idempotency_key": "'charge:' || s.lead_id || ':' || s.provider_id", "related_type": "'leads.lead'",
        "related_id": "s.lead_id::text", "created_at": "s.assigned_at",
    }, "bench_sale s JOIN bench_funding f USING (provider_id)")


def load_finish(cursor, models, sizes: str) -> None:
    """End a bulk load: move each model's id sequence past its rows, drop the staging tables bench_sale and
    bench_funding, and record `sizes` in bench_meta (what `database_prepare` compares on the next run)."""
    for model in models:
        table = model._meta.db_table
        cursor.execute(f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                       f"coalesce((SELECT max(id) FROM \"{table}\"), 1))")
    cursor.execute("DROP TABLE bench_sale, bench_funding")
    cursor.execute("CREATE TABLE bench_meta (key text PRIMARY KEY, value text)")
    cursor.execute("INSERT INTO bench_meta VALUES ('sizes', %s)", [sizes])


# ---- timing -------------------------------------------------------------------------------------------------

class Timer:
    """Prints each step of a load with the seconds since the previous one, as an aligned column."""

    def __init__(self, width: int = 48) -> None:
        self.width = width
        self.started = self.last = time.perf_counter()

    def done(self, what: str) -> None:
        now = time.perf_counter()
        print(f"  {what:<{self.width}} {now - self.last:7.1f} s")
        self.last = now


class Step:
    """Prints each step with its seconds in brackets, flushed at once (output interleaves with subprocesses)."""

    def __init__(self) -> None:
        self.started = time.monotonic()

    def done(self, what: str) -> None:
        print(f"  {what} ({time.monotonic() - self.started:.1f} s)", flush=True)
        self.started = time.monotonic()


def percentile(samples: list[float], p: float) -> float:
    """The nearest-rank p-th percentile of `samples` (any order)."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def checks_report(checks) -> int:
    """Print a PASS or FAIL line per (text, passed) pair after a blank line; the exit status: 0 when all passed."""
    checks = list(checks)
    print()
    for text, ok in checks:
        print(f"{'PASS' if ok else 'FAIL'}  {text}")
    return 0 if all(ok for _, ok in checks) else 1


# ---- processes ----------------------------------------------------------------------------------------------

def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
