# ruff: noqa: S608 - the SQL is assembled from constants and table names only; every value is a parameter.
"""Who may buy a lead at one level (SPEC §4.1), decided in the database by one query.

Every live subscription of the level gets its *first* failing reason, in the order of SPEC §4.1,
from one ordered `CASE WHEN … END` — so the trace costs no extra per-subscription queries — and the
same statement returns the reason counts and the first eligible subscriptions in serving order
(SPEC §4.2: least recently served at this level first, never-served first, ties by the level's
rotation cursor over provider ids).

PostgreSQL computes the provider's local clock with `AT TIME ZONE`; SQLite (the demo) has no time
zones, so the local clock of each time zone in play is computed in Python and passed as JSON.
Lead and spend caps count the subscription's non-refunded assignments since the start of the local
day, the local ISO week (Monday) and the local calendar month.
"""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db import connection

from hotlead.core.prepared import prepared_cursor
from hotlead.distribution.enums import SkipReason
from hotlead.distribution.services.eligibility_sql import _tables, subs_sql
from hotlead.distribution.services.facts import POSTAL_CODE_MAX, Candidate, LeadFacts, LevelFacts
from hotlead.levels.enums import SubscriptionStatus


@dataclass
class LevelEligibility:
    considered: int = 0
    eligible: int = 0
    skipped: Counter = field(default_factory=Counter)
    cursor: int = 0
    candidates: list[Candidate] = field(default_factory=list)
    eligible_providers: list[int] = field(default_factory=list)
    skipped_providers: dict[str, list[int]] = field(default_factory=dict)


def _sqlite_clock(*, now: datetime, timezones: list[str]) -> str:
    """The local clock of each time zone, for SQLite: {tz: {hm, dow, day_start, week_start, month_start}}."""
    clock = {}
    for name in timezones:
        try:
            zone = ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            zone = ZoneInfo("UTC")
        local = now.astimezone(zone)
        day = local.replace(hour=0, minute=0, second=0, microsecond=0)
        week = day - timedelta(days=local.weekday())
        month = day.replace(day=1)
        clock[name] = {
            "hm": local.strftime("%H:%M"),
            "dow": local.weekday(),
            **{key: connection.ops.adapt_datetimefield_value(value.astimezone(ZoneInfo("UTC")))
               for key, value in (("day_start", day), ("week_start", week), ("month_start", month))},
        }
    return json.dumps(clock)


def _fetch(sql: str, params: dict) -> list[tuple]:
    # Planning the eligibility statement costs about as much as running it; its text is the same for every lead.
    with prepared_cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _prefixes(postal_code: str) -> list[str]:
    """Every prefix of the postal code (itself included), padded to a fixed count so the SQL text never varies."""
    code = postal_code[:POSTAL_CODE_MAX]
    found = [code[:n] for n in range(1, len(code) + 1)] or [""]
    return found + [found[-1]] * (POSTAL_CODE_MAX - len(found))


def _params(*, lead: LeadFacts, level: LevelFacts, now: datetime, vendor: str, timezones_sql: str) -> dict:
    params = {
        "lead_id": lead.id, "category_id": lead.category_id, "postal_code": lead.postal_code,
        "price": level.price_cents, "level_id": level.id, "now": now,
        **{f"prefix{i}": prefix for i, prefix in enumerate(_prefixes(lead.postal_code))},
    }
    doc = lead.filter_doc()
    if vendor == "postgresql":
        params["doc"] = json.dumps(doc)
    else:
        for name in ("category", "postal_code", "budget_cents", "timeline", "source"):
            params[f"f_{name}"] = doc.get(name)
        with connection.cursor() as cursor:
            cursor.execute(timezones_sql, {"level_id": level.id})
            params["clock"] = _sqlite_clock(now=now, timezones=[row[0] for row in cursor.fetchall()])
    return params


def level_eligibility(*, lead: LeadFacts, level: LevelFacts, now: datetime, limit: int) -> LevelEligibility:
    """Reason counts for every live subscription of the level, and up to `limit` eligible ones in serving order."""
    vendor = connection.vendor
    t = _tables()
    cancelled = SubscriptionStatus.CANCELLED.value
    # Provider ids are kept for the reasons a provider can act on and for the eligible, so the trace can
    # answer "why didn't I get this lead?"; category and area skips are the bulk and follow from the profile.
    bulk = f"'{SkipReason.CATEGORY.value}', '{SkipReason.AREA.value}'"
    id_text = "CAST(provider_id AS TEXT)" if vendor == "postgresql" else "provider_id"
    agg = "string_agg" if vendor == "postgresql" else "group_concat"
    order = " ORDER BY provider_id" if vendor == "postgresql" else ""
    ids = f"{agg}({id_text}, ','{order}) FILTER (WHERE reason IS NULL OR reason NOT IN ({bulk}))"
    sql = f"""
WITH cur AS (SELECT COALESCE((SELECT last_provider_id FROM {t['cursor']} WHERE level_id = %(level_id)s), 0) AS c),
{subs_sql(vendor, f"s.level_id = %(level_id)s AND s.status <> '{cancelled}'")}
SELECT 0 AS kind, reason, count(*) AS n, {ids} AS ids, NULL AS subscription_id, NULL AS provider_id,
       NULL AS last_served_at, NULL AS capped, (SELECT c FROM cur) AS pos, NULL AS balance
FROM subs GROUP BY reason
UNION ALL
SELECT 1, NULL, NULL, NULL, subscription_id, provider_id, last_served_at, capped, pos,
       (SELECT acc.balance_cents FROM {t['account']} acc WHERE acc.provider_id = chosen.provider_id) FROM (
  SELECT subs.*, row_number() OVER (
      ORDER BY last_served_at IS NOT NULL, last_served_at, provider_id <= (SELECT c FROM cur), provider_id) AS pos
  FROM subs WHERE reason IS NULL
  ORDER BY pos LIMIT %(limit)s
) AS chosen"""
    timezones_sql = (f"SELECT DISTINCT p.timezone FROM {t['sub']} s JOIN {t['provider']} p ON p.id = s.provider_id "
                     f"WHERE s.level_id = %(level_id)s")
    params = _params(lead=lead, level=level, now=now, vendor=vendor, timezones_sql=timezones_sql)
    params["limit"] = limit
    result = LevelEligibility()
    candidates = []
    rows = _fetch(sql, params)
    for kind, reason_value, n, ids, subscription_id, provider_id, last_served_at, is_capped, pos, balance in rows:
        if kind == 0:
            result.considered += n
            result.cursor = int(pos or 0)
            provider_ids = sorted(int(i) for i in ids.split(",")) if ids else []
            if reason_value is None:
                result.eligible = n
                result.eligible_providers = provider_ids
            else:
                result.skipped[reason_value] = n
                if provider_ids:
                    result.skipped_providers[reason_value] = provider_ids
        else:
            if isinstance(last_served_at, str):  # SQLite hands back text inside a compound select
                last_served_at = connection.ops.convert_datetimefield_value(last_served_at, None, connection)
            candidates.append((pos, Candidate(subscription_id=subscription_id, provider_id=provider_id,
                                              last_served_at=last_served_at, capped=bool(is_capped),
                                              balance_cents=balance)))
    result.candidates = [c for _, c in sorted(candidates, key=lambda item: item[0])]
    return result


def subscriptions_recheck(*, lead: LeadFacts, level: LevelFacts, now: datetime,
                          subscription_ids: list[int]) -> dict[int, str | None]:
    """The first failing reason (or None) of each given subscription, with a fresh snapshot."""
    if not subscription_ids:
        return {}
    vendor = connection.vendor
    t = _tables()
    id_params = {f"sid{i}": sid for i, sid in enumerate(subscription_ids)}
    id_list = ", ".join(f"%({name})s" for name in id_params)
    sql = f"WITH {subs_sql(vendor, f's.id IN ({id_list})')} SELECT subscription_id, reason FROM subs"
    timezones_sql = (f"SELECT DISTINCT p.timezone FROM {t['sub']} s JOIN {t['provider']} p ON p.id = s.provider_id "
                     f"WHERE s.level_id = %(level_id)s")
    params = {**_params(lead=lead, level=level, now=now, vendor=vendor, timezones_sql=timezones_sql), **id_params}
    found = dict(_fetch(sql, params))
    # a subscription that vanished (deleted provider) is simply not eligible any more
    return {sid: found.get(sid, SkipReason.INACTIVE.value) for sid in subscription_ids}
