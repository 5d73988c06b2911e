# ruff: noqa: S608 - the SQL is assembled from constants and table names only; every value is a parameter.
"""The SQL of eligibility (SPEC §4.1) for both dialects: the ordered skip reasons, the level read, `subs`.

Assembled from constants and table names only; `eligibility.py` runs it, `sale_sql.py` inlines it.
"""
from __future__ import annotations

from hotlead.billing.models import Account
from hotlead.distribution.enums import AssignmentStatus, SkipReason
from hotlead.distribution.models import Assignment, LevelCursor
from hotlead.distribution.services.facts import POSTAL_CODE_MAX
from hotlead.levels.enums import SubscriptionStatus
from hotlead.levels.models import CompetitionLevel, Subscription
from hotlead.providers.enums import AreaKind, ProviderStatus
from hotlead.providers.models import Provider, ServiceArea


def _tables() -> dict[str, str]:
    return {
        "sub": Subscription._meta.db_table,
        "level": CompetitionLevel._meta.db_table,
        "provider": Provider._meta.db_table,
        "pcat": Provider.categories.through._meta.db_table,
        "area": ServiceArea._meta.db_table,
        "account": Account._meta.db_table,
        "asg": Assignment._meta.db_table,
        "cursor": LevelCursor._meta.db_table,
    }


# --- the dialect-specific pieces ---------------------------------------------------------------

_PG_FILTER_MATCH = """
CASE f.e->>'op'
  WHEN 'eq' THEN COALESCE(lv.v = f.e->'value', false)
  WHEN 'ne' THEN lv.v IS NULL OR lv.v <> f.e->'value'
  WHEN 'in' THEN lv.v IS NOT NULL AND jsonb_typeof(f.e->'value') = 'array'
                 AND f.e->'value' @> jsonb_build_array(lv.v)
  WHEN 'not_in' THEN lv.v IS NULL OR jsonb_typeof(f.e->'value') <> 'array'
                 OR NOT (f.e->'value' @> jsonb_build_array(lv.v))
  WHEN 'gte' THEN CASE WHEN jsonb_typeof(lv.v) = 'number' AND jsonb_typeof(f.e->'value') = 'number'
                       THEN lv.v::numeric >= (f.e->'value')::numeric ELSE false END
  WHEN 'lte' THEN CASE WHEN jsonb_typeof(lv.v) = 'number' AND jsonb_typeof(f.e->'value') = 'number'
                       THEN lv.v::numeric <= (f.e->'value')::numeric ELSE false END
  WHEN 'between' THEN CASE WHEN jsonb_typeof(lv.v) = 'number' AND jsonb_typeof(f.e->'value'->0) = 'number'
                                AND jsonb_typeof(f.e->'value'->1) = 'number'
                           THEN lv.v::numeric BETWEEN (f.e->'value'->0)::numeric AND (f.e->'value'->1)::numeric
                           ELSE false END
  WHEN 'prefix' THEN CASE WHEN jsonb_typeof(lv.v) = 'string' AND jsonb_typeof(f.e->'value') = 'string'
                          THEN starts_with(lv.v #>> '{}', f.e->'value' #>> '{}')
                          WHEN jsonb_typeof(lv.v) = 'string' AND jsonb_typeof(f.e->'value') = 'array'
                          THEN EXISTS (SELECT 1 FROM jsonb_array_elements_text(f.e->'value') AS px(p)
                                       WHERE starts_with(lv.v #>> '{}', px.p))
                          ELSE false END
  ELSE false
END"""

_PG_FILTER_FAILS = f"""
jsonb_typeof(s.filters) = 'array' AND EXISTS (
  SELECT 1 FROM jsonb_array_elements(s.filters) AS f(e)
  CROSS JOIN LATERAL (SELECT %(doc)s::jsonb -> (f.e->>'field') AS v) AS lv
  WHERE NOT ({_PG_FILTER_MATCH})
)"""

# The provider's local clock, as expressions: CASE evaluates them only for the subscriptions that reach
# the schedule and cap checks (most stop at category or area).
_PG_LOCAL = "(%(now)s::timestamptz AT TIME ZONE p.timezone)"
_PG_CLOCK = {
    "hm": f"to_char({_PG_LOCAL}, 'HH24:MI')",
    "dow": f"(EXTRACT(ISODOW FROM {_PG_LOCAL})::int - 1)",
    **{f"{unit}_start": f"(date_trunc('{unit}', {_PG_LOCAL}) AT TIME ZONE p.timezone)"
       for unit in ("day", "week", "month")},
}

_SQLITE_FILTER_VALUE = """
CASE json_extract(f.value, '$.field')
  WHEN 'category' THEN %(f_category)s WHEN 'postal_code' THEN %(f_postal_code)s
  WHEN 'budget_cents' THEN %(f_budget_cents)s WHEN 'timeline' THEN %(f_timeline)s
  WHEN 'source' THEN %(f_source)s END"""

_SQLITE_FILTER_MATCH = """
CASE json_extract(f.value, '$.op')
  WHEN 'eq' THEN COALESCE(lv.v = json_extract(f.value, '$.value'), 0)
  WHEN 'ne' THEN lv.v IS NULL OR lv.v <> json_extract(f.value, '$.value')
  WHEN 'in' THEN lv.v IS NOT NULL AND json_type(f.value, '$.value') = 'array'
                 AND EXISTS (SELECT 1 FROM json_each(f.value, '$.value') x WHERE x.value = lv.v)
  WHEN 'not_in' THEN lv.v IS NULL OR json_type(f.value, '$.value') <> 'array'
                 OR NOT EXISTS (SELECT 1 FROM json_each(f.value, '$.value') x WHERE x.value = lv.v)
  WHEN 'gte' THEN typeof(lv.v) IN ('integer', 'real') AND json_type(f.value, '$.value') IN ('integer', 'real')
                  AND lv.v >= json_extract(f.value, '$.value')
  WHEN 'lte' THEN typeof(lv.v) IN ('integer', 'real') AND json_type(f.value, '$.value') IN ('integer', 'real')
                  AND lv.v <= json_extract(f.value, '$.value')
  WHEN 'between' THEN typeof(lv.v) IN ('integer', 'real')
                  AND json_type(f.value, '$.value[0]') IN ('integer', 'real')
                  AND json_type(f.value, '$.value[1]') IN ('integer', 'real')
                  AND lv.v BETWEEN json_extract(f.value, '$.value[0]') AND json_extract(f.value, '$.value[1]')
  WHEN 'prefix' THEN typeof(lv.v) = 'text' AND (
                  (json_type(f.value, '$.value') = 'text'
                   AND substr(lv.v, 1, length(json_extract(f.value, '$.value'))) = json_extract(f.value, '$.value'))
                  OR (json_type(f.value, '$.value') = 'array'
                      AND EXISTS (SELECT 1 FROM json_each(f.value, '$.value') px
                                  WHERE px.type = 'text' AND substr(lv.v, 1, length(px.value)) = px.value)))
  ELSE 0
END"""

# SQLite has no LATERAL: the lead's value for the filter's field is inlined where it is used.
_SQLITE_FILTER_FAILS = f"""
json_type(s.filters) = 'array' AND EXISTS (
  SELECT 1 FROM json_each(s.filters) AS f
  WHERE NOT ({_SQLITE_FILTER_MATCH.replace("lv.v", f"({_SQLITE_FILTER_VALUE})")})
)"""


def _sqlite_clock_field(name: str) -> str:
    return f"json_extract(%(clock)s, '$.\"' || p.timezone || '\".{name}')"


def _reason_sql(vendor: str) -> tuple[str, str, str, str]:
    """The ordered skip reasons of SPEC §4.1 for one dialect, in two stages.

    Stage 1 (`inactive`, `category`, `area`) is cheap — column tests and hashed look-ups — and decides
    the bulk of the subscriptions of a level; stage 2 (filters, already assigned, schedule, caps,
    balance) needs the provider's time zone and the subscription's sales, so it runs only for the few
    that pass stage 1. Returns (stage 1 CASE, stage 2 CASE, "has a cap", the provider join of stage 2).
    """
    t = _tables()
    if vendor == "postgresql":
        hm, dow, day_start, week_start, month_start = (
            _PG_CLOCK[k] for k in ("hm", "dow", "day_start", "week_start", "month_start"))
        filter_fails = _PG_FILTER_FAILS
        has_days = "s.schedule->'days' IS NOT NULL AND jsonb_typeof(s.schedule->'days') = 'array'"
        day_in = "s.schedule->'days' @> to_jsonb({d})"
        start, end = "s.schedule->>'start'", "s.schedule->>'end'"
        schedule_set = "s.schedule IS NOT NULL AND jsonb_typeof(s.schedule) = 'object'"
        # LATERAL with the stage-1 verdict as its condition: a primary-key look-up for the few that reach
        # stage 2, nothing for the rest (a plain join would read every provider of the level)
        provider_join = (f"LEFT JOIN LATERAL (SELECT pz.timezone FROM {t['provider']} pz "
                         f"WHERE pz.id = s.provider_id AND s.reason0 IS NULL OFFSET 0) p ON true")
    else:
        hm, dow, day_start, week_start, month_start = (
            _sqlite_clock_field(k) for k in ("hm", "dow", "day_start", "week_start", "month_start"))
        filter_fails = _SQLITE_FILTER_FAILS
        has_days = "json_type(s.schedule, '$.days') = 'array'"
        day_in = "EXISTS (SELECT 1 FROM json_each(s.schedule, '$.days') d WHERE d.value = {d})"
        start, end = "json_extract(s.schedule, '$.start')", "json_extract(s.schedule, '$.end')"
        schedule_set = "s.schedule IS NOT NULL AND json_type(s.schedule) = 'object'"
        provider_join = f"LEFT JOIN {t['provider']} p ON p.id = s.provider_id"

    def listed(day: str) -> str:
        return f"(NOT ({has_days}) OR {day_in.format(d=day)})"

    # levels.schedule.schedule_allows: a same-day window is open on each listed day; an overnight
    # window (end < start) belongs to the day it starts on: evening on a listed day, morning after one.
    previous_day = f"(({dow}) + 6) %% 7"  # %% is the modulo operator once parameters are bound
    in_window = (
        f"CASE WHEN {start} IS NULL OR {end} IS NULL OR {start} = {end} THEN {listed(dow)} "
        f"WHEN {start} < {end} THEN {listed(dow)} AND {hm} >= {start} AND {hm} < {end} "
        f"ELSE ({listed(dow)} AND {hm} >= {start}) OR ({listed(previous_day)} AND {hm} < {end}) END"
    )
    outside_schedule = f"({schedule_set} AND NOT ({in_window}))"
    refunded = AssignmentStatus.REFUNDED.value
    if vendor == "postgresql":
        cap_reached = f"""
EXISTS (
  SELECT 1 FROM (
    SELECT count(*) FILTER (WHERE a.assigned_at >= {day_start}) AS n_day,
           count(*) FILTER (WHERE a.assigned_at >= {week_start}) AS n_week,
           count(*) FILTER (WHERE a.assigned_at >= {month_start}) AS n_month,
           COALESCE(sum(a.price_cents) FILTER (WHERE a.assigned_at >= {month_start}), 0) AS spend
    FROM {t['asg']} a
    WHERE a.subscription_id = s.id AND a.status <> '{refunded}'
      AND a.assigned_at >= LEAST({week_start}, {month_start})
  ) c
  WHERE c.n_day >= s.daily_cap OR c.n_week >= s.weekly_cap OR c.n_month >= s.monthly_cap
     OR c.spend + %(price)s > s.monthly_budget_cents
)"""
    else:
        def n_since(start_expr: str, what: str = "count(*)") -> str:
            return (f"(SELECT COALESCE({what}, 0) FROM {t['asg']} a WHERE a.subscription_id = s.id "
                    f"AND a.status <> '{refunded}' AND a.assigned_at >= {start_expr})")

        cap_reached = (
            f"((s.daily_cap IS NOT NULL AND {n_since(day_start)} >= s.daily_cap)"
            f" OR (s.weekly_cap IS NOT NULL AND {n_since(week_start)} >= s.weekly_cap)"
            f" OR (s.monthly_cap IS NOT NULL AND {n_since(month_start)} >= s.monthly_cap)"
            f" OR (s.monthly_budget_cents IS NOT NULL"
            f" AND {n_since(month_start, 'sum(a.price_cents)')} + %(price)s > s.monthly_budget_cents))"
        )
    capped = ("(s.daily_cap IS NOT NULL OR s.weekly_cap IS NOT NULL OR s.monthly_cap IS NOT NULL "
              "OR s.monthly_budget_cents IS NOT NULL)")
    active, paused = SubscriptionStatus.ACTIVE.value, SubscriptionStatus.PAUSED.value
    r = SkipReason
    prefixes = ", ".join(f"%(prefix{i})s" for i in range(POSTAL_CODE_MAX))
    # the providers that cannot buy (suspended, e-mail not verified): few, read from a partial index
    not_live = (f"SELECT pn.id FROM {t['provider']} pn "
                f"WHERE pn.status <> '{ProviderStatus.ACTIVE.value}' OR pn.email_verified_at IS NULL")
    stage1 = f"""
CASE
  WHEN s.status NOT IN ('{active}', '{paused}') OR NOT lv.active OR lv.archived_at IS NOT NULL
       OR s.provider_id IN ({not_live}) THEN '{r.INACTIVE.value}'
  WHEN NOT s.provider_id IN (SELECT pc.provider_id FROM {t['pcat']} pc WHERE pc.category_id = %(category_id)s)
       THEN '{r.CATEGORY.value}'
  WHEN NOT s.provider_id IN (SELECT ar.provider_id FROM {t['area']} ar
                             WHERE (ar.kind = '{AreaKind.CODE.value}' AND ar.value = %(postal_code)s)
                                OR (ar.kind = '{AreaKind.PREFIX.value}' AND ar.value IN ({prefixes})))
       THEN '{r.AREA.value}'
END"""
    stage2 = f"""
CASE
  WHEN p.timezone IS NULL THEN '{r.INACTIVE.value}'
  WHEN {filter_fails} THEN '{r.FILTER.value}'
  WHEN s.provider_id IN (SELECT x.provider_id FROM {t['asg']} x WHERE x.lead_id = %(lead_id)s)
       THEN '{r.ALREADY_ASSIGNED.value}'
  WHEN s.status = '{paused}' OR {outside_schedule} THEN '{r.SCHEDULE.value}'
  WHEN {capped} AND {cap_reached} THEN '{r.CAP.value}'
  WHEN COALESCE((SELECT acc.balance_cents FROM {t['account']} acc WHERE acc.provider_id = s.provider_id), 0)
       < %(price)s THEN '{r.BALANCE.value}'
END"""
    return stage1, stage2, capped, provider_join


def _stage1_probes() -> str:
    """Stage 1 as index probes per subscription (PostgreSQL): for a handful of rows (the re-check under
    locks), cheaper than building the hashed sets the level-wide query uses."""
    t = _tables()
    active, paused = SubscriptionStatus.ACTIVE.value, SubscriptionStatus.PAUSED.value
    r = SkipReason
    return f"""
CASE
  WHEN s.status NOT IN ('{active}', '{paused}') OR NOT lv.active OR lv.archived_at IS NOT NULL
       OR EXISTS (SELECT 1 FROM {t['provider']} pn WHERE pn.id = s.provider_id
                  AND (pn.status <> '{ProviderStatus.ACTIVE.value}' OR pn.email_verified_at IS NULL))
       THEN '{r.INACTIVE.value}'
  WHEN NOT EXISTS (SELECT 1 FROM {t['pcat']} pc WHERE pc.provider_id = s.provider_id
                   AND pc.category_id = %(category_id)s) THEN '{r.CATEGORY.value}'
  WHEN NOT EXISTS (SELECT 1 FROM {t['area']} ar WHERE ar.provider_id = s.provider_id
                   AND ((ar.kind = '{AreaKind.CODE.value}' AND ar.value = %(postal_code)s)
                        OR (ar.kind = '{AreaKind.PREFIX.value}' AND ar.value = ANY (%(prefixes)s))))
       THEN '{r.AREA.value}'
END"""


def level_read_fast_sql() -> str:
    """The level read of `level_eligibility`, driven by indexes (PostgreSQL; used by `sale_sql`).

    Only the subscriptions that pass stage 1 — live, in the category and in the area, a handful — are
    evaluated in full. The stage-1 reasons are counted, not evaluated: one index-only pass over the level's
    subscriptions in provider order (no table rows read), merge-joined with the category's providers, and
    the small partial index of providers that cannot buy. Same rows as the query of `level_eligibility`
    (kind 0: a reason, its count, the provider ids kept for it; kind 1: the first `limit` eligible
    subscriptions in serving order), as tests/distribution/test_sale_sql.py checks against it.
    Parameters: those of `level_eligibility`, with `prefixes` as one text array.
    """
    t = _tables()
    active, paused, cancelled = (SubscriptionStatus.ACTIVE.value, SubscriptionStatus.PAUSED.value,
                                 SubscriptionStatus.CANCELLED.value)
    r = SkipReason
    _stage1, stage2, capped, provider_join = _reason_sql("postgresql")
    live = f"s.level_id = %(level_id)s AND s.status IN ('{active}', '{paused}')"
    not_live = (f"SELECT pn.id FROM {t['provider']} pn "
                f"WHERE pn.status <> '{ProviderStatus.ACTIVE.value}' OR pn.email_verified_at IS NULL")
    in_category = f"SELECT pc.provider_id FROM {t['pcat']} pc WHERE pc.category_id = %(category_id)s"
    in_area = (f"SELECT ar.provider_id FROM {t['area']} ar "
               f"WHERE (ar.kind = '{AreaKind.CODE.value}' AND ar.value = %(postal_code)s) "
               f"OR (ar.kind = '{AreaKind.PREFIX.value}' AND ar.value = ANY (%(prefixes)s))")
    return f"""
WITH cur AS (SELECT COALESCE((SELECT last_provider_id FROM {t['cursor']} WHERE level_id = %(level_id)s), 0) AS c),
nl AS MATERIALIZED ({not_live}),
stage1 AS (
  -- one pass over the level's subscriptions (an index-only scan in provider order, merge-joined with the
  -- category's providers): how many are live, how many of those serve the category, who is inactive
  SELECT count(*) FILTER (WHERE s.status IN ('{active}', '{paused}') AND s.provider_id NOT IN (SELECT id FROM nl))
           AS n_live,
         count(pc.provider_id) FILTER (WHERE s.status IN ('{active}', '{paused}')
                                       AND s.provider_id NOT IN (SELECT id FROM nl)) AS n_category,
         jsonb_agg(s.provider_id ORDER BY s.provider_id)
           FILTER (WHERE s.status NOT IN ('{active}', '{paused}') OR s.provider_id IN (SELECT id FROM nl))
           AS inactive_ids
  FROM {t['sub']} s
  LEFT JOIN {t['pcat']} pc ON pc.provider_id = s.provider_id AND pc.category_id = %(category_id)s
  WHERE s.level_id = %(level_id)s AND s.status <> '{cancelled}'
),
pre AS MATERIALIZED (
  SELECT s.id, s.provider_id, s.status, s.filters, s.schedule, s.daily_cap, s.weekly_cap, s.monthly_cap,
         s.monthly_budget_cents, s.last_served_at, NULL::text AS reason0
  FROM {t['sub']} s
  WHERE {live} AND s.provider_id IN ({in_category}) AND s.provider_id IN ({in_area})
    AND s.provider_id NOT IN (SELECT id FROM nl)
),
subs AS (
  SELECT s.id AS subscription_id, s.provider_id, s.last_served_at, {capped} AS capped, {stage2} AS reason
  FROM pre s {provider_join}
),
counts AS (
  SELECT '{r.INACTIVE.value}' AS reason, jsonb_array_length(COALESCE(inactive_ids, '[]')) AS n,
         COALESCE(inactive_ids, '[]') AS ids FROM stage1
  UNION ALL
  SELECT '{r.CATEGORY.value}', n_live - n_category, '[]' FROM stage1
  UNION ALL
  SELECT '{r.AREA.value}', n_category - (SELECT count(*) FROM pre), '[]' FROM stage1
  UNION ALL
  SELECT subs.reason, count(*), COALESCE(jsonb_agg(subs.provider_id ORDER BY subs.provider_id), '[]')
  FROM subs GROUP BY subs.reason
)
SELECT 0 AS kind, counts.reason, counts.n, counts.ids, NULL::bigint AS subscription_id, NULL::bigint AS provider_id,
       NULL::timestamptz AS last_served_at, NULL::boolean AS capped, (SELECT c FROM cur) AS pos, NULL::bigint AS balance
FROM counts WHERE counts.n > 0
UNION ALL
SELECT 1, NULL, NULL, NULL, chosen.subscription_id, chosen.provider_id, chosen.last_served_at, chosen.capped,
       chosen.pos, (SELECT acc.balance_cents FROM {t['account']} acc WHERE acc.provider_id = chosen.provider_id)
FROM (
  SELECT subs.*, row_number() OVER (
      ORDER BY subs.last_served_at IS NOT NULL, subs.last_served_at, subs.provider_id <= (SELECT c FROM cur),
               subs.provider_id) AS pos
  FROM subs WHERE subs.reason IS NULL
  ORDER BY pos LIMIT %(limit)s
) AS chosen
ORDER BY 1, 9"""


def subs_sql(vendor: str, where: str, *, probes: bool = False) -> str:
    """`subs(subscription_id, provider_id, last_served_at, capped, reason)`: every subscription matching
    `where` (on `s`) with its first failing reason, NULL when eligible (SPEC §4.1). `probes`: stage 1 as
    index probes (PostgreSQL, for a few rows; takes `prefixes` as one array parameter)."""
    t = _tables()
    stage1, stage2, capped, provider_join = _reason_sql(vendor)
    if probes:
        stage1 = _stage1_probes()
    return f"""
pre AS {"MATERIALIZED " if vendor == "postgresql" else ""}(
  SELECT s.id, s.provider_id, s.status, s.filters, s.schedule, s.daily_cap, s.weekly_cap, s.monthly_cap,
         s.monthly_budget_cents, s.last_served_at, {stage1} AS reason0
  FROM {t['sub']} s JOIN {t['level']} lv ON lv.id = s.level_id
  WHERE {where}
),
subs AS (
  SELECT s.id AS subscription_id, s.provider_id, s.last_served_at, {capped} AS capped,
         COALESCE(s.reason0, {stage2}) AS reason
  FROM pre s {provider_join}
)"""
