# ruff: noqa: S608 - the SQL is assembled from constants and table names only; values are function arguments.
"""The sale of one lead in one round trip, on PostgreSQL (SPEC §4.2, §4.3, §4.5).

On PostgreSQL a whole run is one call of the PL/pgSQL function `hl_sale_sell_<hash>`, written in
`hotlead/distribution/sql/sale_sell.sql`: it locks the lead row, applies the run's policy (the statuses and
the freshness `engine._run_policy` passes in), walks the live levels, reads each level's eligibility, locks
the chosen buyers' accounts, re-checks capped subscriptions, charges, assigns, syncs the buyers'
subscriptions with their new balance, moves last-served times and the level's cursor, records the lead's
outcome and history and stores the run with its trace. `lead_sell` calls it and returns a `SaleResult`;
`engine._sell_in_database` then does what only Python does (e-mails, the audit entry, the follow-up job).
The Python engine (`engine._distribute_once` with `level_sale._sell_at_level`) does the same work statement
by statement; it runs on SQLite (the demo) and is the reference the function is tested against
(tests/distribution/test_sale_sql.py runs both on the same states and compares assignments, ledger,
balances, cursor, lead and trace).

Nothing is written here by hand twice: the level read and the re-check are the eligibility SQL of
`eligibility_sql.py` (`level_read_fast_sql`; `subs_sql` with index probes), their named parameters replaced
by the function's variables; the lock order and the re-read of a stale level are those of the Python engine.

The .sql file is a template: `_functions_sql` fills its `{name}` placeholders from a fixed dict (table
names, enum values, the inlined eligibility SQL), never from input. The function's name carries a hash of
the rendered text, so it changes exactly when the SQL does; `functions_install` (a `post_migrate` hook,
hotlead/distribution/apps.py) creates this code's version and drops the others. Code and database cannot
disagree silently: code whose function is not installed fails with "function hl_sale_sell_… does not
exist" until `migrate` has run.

Money rules the function keeps, like `billing.services.ledger._entry_post`: the account row is locked before
its balance is read, the debit is a conditional UPDATE (never below zero; the CHECK constraint is the
backstop), the entry carries the idempotency key `charge:<lead>:<provider>` (unique: a second charge
for the same sale cannot be written), and the low-balance alert is armed once.
"""
from __future__ import annotations

import hashlib
import json
import logging
import string
from dataclasses import dataclass
from datetime import datetime
from importlib import resources

from django.db import connection, connections
from django.utils.dateparse import parse_datetime

from hotlead.billing.models import Account, LedgerEntry
from hotlead.distribution.enums import AssignmentStatus, SkipReason
from hotlead.distribution.models import DistributionRun, LevelCursor
from hotlead.distribution.services.eligibility_sql import _tables, level_read_fast_sql, subs_sql
from hotlead.distribution.services.facts import POSTAL_CODE_SQL
from hotlead.leads.enums import LeadStatus
from hotlead.leads.models import Category, Lead, LeadEvent
from hotlead.levels.enums import SubscriptionStatus
from hotlead.levels.models import CompetitionLevel, Subscription
from hotlead.providers.enums import AreaKind
from hotlead.providers.models import Provider, ServiceArea

logger = logging.getLogger("hotlead.distribution")

PREFIX = "hl_sale_"
SQL_TEMPLATE = "sql/sale_sell.sql"  # in hotlead/distribution


def _inline(sql: str) -> str:
    """An eligibility query with its named parameters replaced by the function's variables."""
    return sql % {
        "lead_id": "p_lead_id", "category_id": "p_category_id", "postal_code": "p_postal", "price": "v_price",
        "level_id": "v_level_id", "now": "p_now", "doc": "p_doc", "limit": "v_limit", "prefixes": "p_prefixes",
        "ids": "v_recheck_ids",
    }


def _recheck_sql() -> str:
    """The re-check under locks: the first failing reason of each capped subscription of the batch (`ids`)."""
    return (f"WITH {subs_sql('postgresql', 's.id = ANY (%(ids)s)', probes=True)} "
            f"SELECT subs.subscription_id, subs.reason FROM subs")


def iso(ts: str) -> str:
    """SQL for Python's `datetime.isoformat()` of an aware UTC datetime (as the Python engine writes traces)."""
    return (f"CASE WHEN {ts} IS NULL THEN NULL WHEN date_part('microseconds', {ts})::bigint % 1000000 = 0 "
            f"THEN to_char({ts} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS') || '+00:00' "
            f"ELSE to_char({ts} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US') || '+00:00' END")


def _sql_template() -> str:
    """The text of sql/sale_sell.sql (shipped as package data)."""
    return resources.files("hotlead.distribution").joinpath(SQL_TEMPLATE).read_text(encoding="utf-8")


def _render(template: str, values: dict[str, str]) -> str:
    """`template` with each `{name}` replaced by `values[name]` (`{{` and `}}` are literal braces).

    Strict: every placeholder is a plain name found in `values`, and every value is used."""
    fields = set()
    for _text, field, spec, conversion in string.Formatter().parse(template):
        if field is None:
            continue
        if not field.isidentifier() or spec or conversion:
            raise ValueError(f"{SQL_TEMPLATE}: {{{field}}} is not a plain placeholder")
        fields.add(field)
    if fields != set(values):
        raise ValueError(f"{SQL_TEMPLATE}: placeholders {sorted(fields)} do not match the values {sorted(values)}")
    return template.format_map(values)


def _functions_sql(names: dict[str, str]) -> str:
    """The CREATE FUNCTION statement of the sale function, named `names["sell"]`: the template, rendered."""
    t = _tables()
    r = SkipReason
    return _render(_sql_template(), {
        "sell": names["sell"],
        # the eligibility SQL, its named parameters replaced by the function's variables
        "level_read": _inline(level_read_fast_sql()),
        "recheck": _inline(_recheck_sql()),
        "lead_postal_code": POSTAL_CODE_SQL.format(col="v_lead.postal_code"),
        "s_last_iso": iso("s_last[o]"),
        # tables
        "lead": Lead._meta.db_table, "category": Category._meta.db_table, "level": CompetitionLevel._meta.db_table,
        "provider": Provider._meta.db_table, "account": Account._meta.db_table, "ledger": LedgerEntry._meta.db_table,
        "asg": t["asg"], "subscription": Subscription._meta.db_table, "area": ServiceArea._meta.db_table,
        "event": LeadEvent._meta.db_table, "run": DistributionRun._meta.db_table, "cursor": LevelCursor._meta.db_table,
        # values
        "assigned": AssignmentStatus.ASSIGNED.value,
        "distributed": LeadStatus.DISTRIBUTED.value, "unsold": LeadStatus.UNSOLD.value,
        "active": SubscriptionStatus.ACTIVE.value, "inactive_funds": SubscriptionStatus.INACTIVE_FUNDS.value,
        "reason_inactive": r.INACTIVE.value, "reason_balance": r.BALANCE.value,
        "area_code": AreaKind.CODE.value, "area_prefix": AreaKind.PREFIX.value,
    })


def _template_hash() -> str:
    """Ten hex digits of the SHA-256 of the rendered function with a stand-in name: they change exactly when the
    SQL does (the .sql file, the inlined eligibility SQL, a table name or an enum value)."""
    placeholder = {"sell": "<sell>"}
    return hashlib.sha256(_functions_sql(placeholder).encode()).hexdigest()[:10]


_names_cache: dict[str, str] | None = None


def function_names() -> dict[str, str]:
    """{"sell": "hl_sale_sell_<hash>"}: the name this code's sale function has in the database."""
    global _names_cache
    if _names_cache is None:
        digest = _template_hash()
        _names_cache = {"sell": f"{PREFIX}sell_{digest}"}
    return _names_cache


def functions_install(using: str = "default", **_kwargs) -> bool:
    """Install this code's version of the sale function (post_migrate), dropping every other `hl_sale_*`
    function; nothing to do when it is installed already. True if it was created."""
    conn = connections[using]
    if conn.vendor != "postgresql":
        return False
    names = function_names()
    with conn.cursor() as cursor:
        cursor.execute("SELECT proname, oid::regprocedure::text FROM pg_proc WHERE proname LIKE %s",
                       [PREFIX.replace("_", r"\_") + "%"])
        existing = cursor.fetchall()
        current = set(names.values())
        if current <= {name for name, _ in existing}:
            return False
        for name, signature in existing:
            if name not in current:
                cursor.execute(f"DROP FUNCTION IF EXISTS {signature}")
        cursor.execute(_functions_sql(names))
    logger.info("distribution SQL functions installed", extra={"version": names["sell"]})
    return True


@dataclass(frozen=True)
class SoldTo:
    provider_id: int
    entry_id: int
    balance_after_cents: int
    low_balance_alert: bool  # the alert was armed by this charge: send the e-mail
    deactivated: list[int]  # subscriptions this charge made inactive_funds: tell the provider
    reactivated: list[int]  # stale inactive_funds subscriptions the balance covered: made active again


@dataclass(frozen=True)
class SaleResult:
    refused: str | None  # missing | fraud | status | stale: nothing was written
    status: str  # the lead's status before the run
    run_id: int | None = None
    outcome: str = ""
    buyers: int = 0
    level: str | None = None
    public_id: str = ""
    postal_code: str = ""
    category_id: int | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    duration_ms: float = 0.0
    trace: dict | None = None
    sales: list[SoldTo] = ()


def lead_sell(*, lead_id: int, now: datetime, trigger: str, actor_id: int | None, statuses: list[str],
              fresh_since: datetime | None, slack: int, max_rereads: int) -> SaleResult:
    """Call the sale function: lock the lead, apply the policy (the statuses it may be in, the freshness), sell it.

    Returns its `SaleResult`; `refused` is set (and nothing was written) when the lead is missing, fraudulent,
    in another status or stale."""
    sql = f"SELECT {function_names()['sell']}(%s, %s, %s, %s, %s, %s::text[], %s, %s, %s)"
    with connection.cursor() as cursor:
        cursor.execute(sql, [lead_id, now, now.isoformat(), trigger, actor_id, list(statuses), fresh_since, slack,
                             max_rereads])
        out = cursor.fetchone()[0]
    if isinstance(out, str):
        out = json.loads(out)
    if out.get("refused"):
        return SaleResult(refused=out["refused"], status=out.get("status", ""))
    return SaleResult(
        refused=None, status=out["from_status"], run_id=out["run_id"], outcome=out["outcome"], buyers=out["buyers"],
        level=out["level"], public_id=out["public_id"], postal_code=out["postal_code"],
        category_id=out["category_id"], started_at=parse_datetime(out["started_at"]),
        finished_at=parse_datetime(out["finished_at"]), duration_ms=float(out["duration_ms"]), trace=out["trace"],
        sales=[SoldTo(provider_id=s["provider_id"], entry_id=s["entry_id"],
                      balance_after_cents=s["balance_after_cents"], low_balance_alert=s["low_balance_alert"],
                      deactivated=s["deactivated"], reactivated=s["reactivated"])
               for s in out["sales"]],
    )
