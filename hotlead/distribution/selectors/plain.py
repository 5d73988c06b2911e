# ruff: noqa: S608 - table names only are formatted into the SQL; every value is a parameter.
"""Distribution in plain words for the console: what a lead would sell to now, what its runs did, and
which leads a provider missed for lack of funds.

Everything here reads; nothing writes (the prediction uses the engine's eligibility read, no locks).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.utils import timezone

from hotlead.core.money import money_format
from hotlead.distribution.enums import RunTrigger, SkipReason
from hotlead.distribution.models import DistributionRun
from hotlead.distribution.services import eligibility, eligibility_sql
from hotlead.distribution.services.facts import lead_facts_of, market_read
from hotlead.leads.models import Lead
from hotlead.levels.models import CompetitionLevel
from hotlead.providers.models import Provider

# How a skip reason reads in a sentence ("3 outside their service areas").
SKIP_PLAIN = {
    SkipReason.INACTIVE: "not active",
    SkipReason.CATEGORY: "not in this category",
    SkipReason.AREA: "outside their service areas",
    SkipReason.FILTER: "excluded by their filters",
    SkipReason.ALREADY_ASSIGNED: "already had this lead",
    SkipReason.SCHEDULE: "outside their delivery hours or paused",
    SkipReason.CAP: "at a lead or spend cap",
    SkipReason.BALANCE: "short of funds",
}
TRIGGER_PLAIN = {
    RunTrigger.APPROVAL: "after approval",
    RunTrigger.MANUAL: "run by staff",
    RunTrigger.SCHEDULE: "unsold retry",
}
MISSED_RUNS_SCANNED = 5000  # the newest runs searched for "missed for lack of funds"


def skips_plain(skipped: dict[str, int]) -> str:
    parts = [f"{n} {SKIP_PLAIN.get(reason, reason)}"
             for reason, n in sorted(skipped.items(), key=lambda kv: (-kv[1], kv[0])) if n]
    return ", ".join(parts)


def names_joined(names: list[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} and {names[-1]}"


# --- the prediction ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Prediction:
    """What a run would do right now: the first level that has a buyer, how many, at what price."""

    level_name: str | None
    price_cents: int
    buyers: int
    eligible: int
    skipped: dict[str, int]

    @property
    def sells(self) -> bool:
        return self.buyers > 0

    def text(self) -> str:
        if self.sells:
            who = "1 buyer" if self.buyers == 1 else f"{self.buyers} buyers"
            each = "" if self.buyers == 1 else " each"
            return f"{self.level_name}: {who} at {money_format(self.price_cents)}{each}"
        reasons = skips_plain(self.skipped)
        return f"No buyer now ({reasons})" if reasons else "No buyer now (no live subscription)"


def _level_read(*, facts, level, now: datetime) -> tuple[int, int, dict[str, int]]:
    """(buyers it would sell to now, eligible, {skip reason: n}) at one level: the engine's own read.

    On PostgreSQL the index-driven read the sale function runs (`level_read_fast_sql`: only the live
    subscriptions in the lead's category and area are evaluated in full); elsewhere `level_eligibility`.
    Same rows either way (tests/distribution/test_sale_sql.py)."""
    if connection.vendor != "postgresql":
        found = eligibility.level_eligibility(lead=facts, level=level, now=now, limit=level.max_recipients)
        return len(found.candidates), found.eligible, dict(found.skipped)
    params = eligibility._params(lead=facts, level=level, now=now, vendor="postgresql", timezones_sql="")
    params = {k: v for k, v in params.items() if not k.startswith("prefix")}
    params.update(prefixes=eligibility._prefixes(facts.postal_code), limit=level.max_recipients)
    buyers, eligible, skipped = 0, 0, {}
    for kind, reason, n, *_rest in eligibility._fetch(eligibility_sql.level_read_fast_sql(), params):
        if kind == 1:
            buyers += 1
        elif reason is None:
            eligible = n
        else:
            skipped[reason] = n
    return buyers, eligible, skipped


def leads_predicted_outcomes(*, leads: Iterable, now: datetime | None = None) -> dict[int, Prediction]:
    """{lead id: Prediction} — the engine's eligibility read per level (one query each), walked by rank until
    a level has a buyer. `leads` need their category loaded (select_related)."""
    now = now or timezone.now()
    levels = market_read().levels
    predictions = {}
    for lead in leads:
        facts = lead_facts_of(lead)
        skipped: dict[str, int] = {}
        prediction = None
        for level in levels:
            buyers, eligible, level_skipped = _level_read(facts=facts, level=level, now=now)
            if buyers:
                prediction = Prediction(level_name=level.name, price_cents=level.price_cents,
                                        buyers=buyers, eligible=eligible, skipped={})
                break
            for reason, n in level_skipped.items():
                skipped[reason] = skipped.get(reason, 0) + n
        predictions[lead.pk] = prediction or Prediction(level_name=None, price_cents=0, buyers=0, eligible=0,
                                                        skipped=skipped)
    return predictions


# --- the trace in words -----------------------------------------------------------------------------

@dataclass(frozen=True)
class RunStory:
    run_id: int
    started_at: datetime
    heading: str  # "after approval · sold to 1 buyer"
    lines: list[str]  # one sentence per level walked


def _level_line(level: dict, *, level_names: dict[str, str], provider_names: dict[int, str]) -> str:
    name = level_names.get(level.get("level"), level.get("level") or "a level")
    price = money_format(level.get("price_cents")) if level.get("price_cents") is not None else None
    chosen = [pid for pid in level.get("chosen") or [] if isinstance(pid, int)]
    if chosen:
        buyers = names_joined([provider_names.get(pid, "a provider that no longer exists") for pid in chosen])
        served = {s.get("provider_id"): s.get("last_served_at") for s in level.get("served") or []}
        never = all(served.get(pid) is None for pid in chosen) and served
        if len(chosen) == 1:
            why = "it had never had a lead at this level" if never else "it had waited longest"
        else:
            why = "they had never had a lead at this level" if never else "they had waited longest"
        eligible = level.get("eligible")
        others = ""
        if isinstance(eligible, int) and eligible > len(chosen):
            others = f" ({eligible - len(chosen)} other eligible buyer{'s' if eligible - len(chosen) != 1 else ''} "\
                     "waited less)"
        each = "" if len(chosen) == 1 else " each"
        at_price = f", {price}{each}" if price else ""
        return f"Sold to {buyers} at {name}{at_price} — {why}{others}."
    reasons = skips_plain(level.get("skipped") or {})
    if level.get("eligible"):
        return (f"No sale at {name}: {level['eligible']} eligible, but a cap or the balance was reached by another "
                "sale at the same moment.")
    if not reasons:
        return f"No sale at {name}: no provider subscribes to it."
    considered = level.get("considered", 0)
    return f"No sale at {name}: of {considered} subscription{'s' if considered != 1 else ''}, {reasons}."


def lead_runs_plain(*, lead_id: int, limit: int = 20) -> list[RunStory]:
    """The lead's runs, newest first, each told in sentences (names, level names, prices, reasons)."""
    runs = list(DistributionRun.objects.filter(lead_id=lead_id).order_by("-started_at", "-id")[:limit])
    if not runs:
        return []
    levels = [level for run in runs for level in (run.trace or {}).get("levels", []) if isinstance(level, dict)]
    provider_ids = {pid for level in levels for pid in level.get("chosen") or [] if isinstance(pid, int)}
    provider_names = dict(Provider.objects.filter(pk__in=provider_ids).values_list("pk", "company_name")) \
        if provider_ids else {}
    slugs = {level.get("level") for level in levels}
    level_names = dict(CompetitionLevel.objects.filter(slug__in=slugs).values_list("slug", "name")) if slugs else {}
    stories = []
    for run in runs:
        lines = [_level_line(level, level_names=level_names, provider_names=provider_names)
                 for level in (run.trace or {}).get("levels", []) if isinstance(level, dict)]
        if run.finished_at is None and not run.outcome:
            result = "still running"
        elif run.buyers:
            result = f"sold to {run.buyers} buyer{'s' if run.buyers != 1 else ''}"
        elif run.outcome:
            result = "no sale" if run.outcome in ("unsold", "none") else run.outcome.replace("_", " ")
        else:
            result = "no sale"
        if not lines:
            refused = (run.trace or {}).get("refused") or (run.trace or {}).get("reason")
            lines = [f"Nothing was offered: {str(refused).replace('_', ' ')}."] if refused else \
                ["No level was walked."]
        heading = f"{TRIGGER_PLAIN.get(run.trigger, run.trigger)} · {result}"
        stories.append(RunStory(run_id=run.pk, started_at=run.started_at, heading=heading, lines=lines))
    return stories


# --- leads a provider missed for lack of funds --------------------------------------------------------

@dataclass(frozen=True)
class MissedLead:
    run_id: int
    lead_id: int
    lead_public_id: str
    started_at: datetime


def provider_missed_for_funds(*, provider_id: int, limit: int = 10,
                              scanned: int = MISSED_RUNS_SCANNED) -> tuple[int, list[MissedLead]]:
    """(how many of the newest `scanned` runs skipped this provider for its balance, the newest `limit`)."""
    run_table, lead_table = DistributionRun._meta.db_table, Lead._meta.db_table
    if connection.vendor == "postgresql":
        sql = f"""
WITH recent AS (SELECT id, lead_id, started_at, trace FROM {run_table} ORDER BY id DESC LIMIT %(scanned)s),
missed AS (SELECT id, lead_id, started_at FROM recent
           WHERE jsonb_path_exists(trace, '$.levels[*].skipped_providers.balance[*] ? (@ == $pid)',
                                   jsonb_build_object('pid', %(pid)s::bigint)))
SELECT (SELECT count(*) FROM missed), m.id, m.lead_id, l.public_id::text, m.started_at
FROM (SELECT * FROM missed ORDER BY id DESC LIMIT %(limit)s) m JOIN {lead_table} l ON l.id = m.lead_id
ORDER BY m.id DESC"""
        with connection.cursor() as cursor:
            cursor.execute(sql, {"scanned": scanned, "pid": provider_id, "limit": limit})
            rows = cursor.fetchall()
        total = rows[0][0] if rows else 0
        return total, [MissedLead(run_id=r[1], lead_id=r[2], lead_public_id=r[3], started_at=r[4]) for r in rows]
    found = []
    for run in DistributionRun.objects.select_related("lead").order_by("-id")[:scanned]:
        levels = (run.trace or {}).get("levels", [])
        if any(provider_id in ((level.get("skipped_providers") or {}).get(SkipReason.BALANCE.value) or [])
               for level in levels if isinstance(level, dict)):
            found.append(MissedLead(run_id=run.pk, lead_id=run.lead_id, lead_public_id=str(run.lead.public_id),
                                    started_at=run.started_at))
    return len(found), found[:limit]
