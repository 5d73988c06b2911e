# ruff: noqa: S608 - the SQL is assembled from constants and table names only; values are function arguments.
"""The sale of one lead in one round trip, on PostgreSQL (SPEC §4.2, §4.3, §4.5).

`engine._distribute_once` locks the lead and decides whether it may run (in Python); on PostgreSQL the
rest of the run — the level walk, eligibility, locking the buyers' accounts, the re-check under those
locks, the charges, the assignments, last-served times, the level's cursor, the lead's outcome and
history and the run with its trace — is one PL/pgSQL function, `hl_lead_sell`. The Python engine in
`engine.py` does the same work statement by statement; it runs on SQLite (the demo) and is the
reference the function is tested against (tests/distribution/test_sale_sql.py runs both on the same
states and compares assignments, ledger, balances, cursor, lead and trace).

Nothing is written here by hand twice: the eligibility query is the one of `eligibility.py` (its
named parameters become the function's arguments), the lock order and the re-read of a stale level
are those of `engine.py`. The functions are (re)installed by `post_migrate`; their names carry a hash
of their text, so code and database can never disagree silently (a missing function is an error
that says "run migrate").

Money rules the function keeps, like `billing.services._entry_post`: the account row is locked before
its balance is read, the debit is a conditional UPDATE (never below zero; the CHECK constraint is the
backstop), the entry carries the idempotency key `charge:<lead>:<provider>` (unique: a second charge
for the same sale cannot be written), and the low-balance alert is armed once.
"""
from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import datetime

from django.db import connection

from hotlead.billing.models import Account, LedgerEntry
from hotlead.distribution.enums import AssignmentStatus, SkipReason
from hotlead.distribution.models import DistributionRun, LevelCursor
from hotlead.distribution.services.eligibility import LeadFacts, _prefixes, _tables, level_read_fast_sql, subs_sql
from hotlead.leads.enums import LeadStatus
from hotlead.leads.models import Lead, LeadEvent
from hotlead.levels.enums import SubscriptionStatus
from hotlead.levels.models import CompetitionLevel, Subscription
from hotlead.providers.models import Provider

logger = logging.getLogger("hotlead.distribution")

PREFIX = "hl_sale_"


def _inline(sql: str) -> str:
    """An eligibility query with its named parameters replaced by the function's variables."""
    return sql % {
        "lead_id": "p_lead_id", "category_id": "p_category_id", "postal_code": "p_postal", "price": "v_price",
        "level_id": "v_level_id", "now": "p_now", "doc": "p_doc", "limit": "v_limit", "prefixes": "p_prefixes",
        "ids": "v_recheck_ids",
    }


def _recheck_sql() -> str:
    return (f"WITH {subs_sql('postgresql', 's.id = ANY (%(ids)s)', probes=True)} "
            f"SELECT subs.subscription_id, subs.reason FROM subs")


def iso(ts: str) -> str:
    """SQL for Python's `datetime.isoformat()` of an aware UTC datetime (as the Python engine writes traces)."""
    return (f"CASE WHEN {ts} IS NULL THEN NULL WHEN date_part('microseconds', {ts})::bigint % 1000000 = 0 "
            f"THEN to_char({ts} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS') || '+00:00' "
            f"ELSE to_char({ts} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US') || '+00:00' END")


def _functions_sql(names: dict[str, str]) -> str:
    t = _tables()
    level_read = _inline(level_read_fast_sql())
    recheck = _inline(_recheck_sql())
    assigned = AssignmentStatus.ASSIGNED.value
    r = SkipReason
    asg, ledger, account = t["asg"], LedgerEntry._meta.db_table, Account._meta.db_table
    run, event, lead = DistributionRun._meta.db_table, LeadEvent._meta.db_table, Lead._meta.db_table
    cursor, subscription, provider = LevelCursor._meta.db_table, Subscription._meta.db_table, Provider._meta.db_table
    distributed, unsold = LeadStatus.DISTRIBUTED.value, LeadStatus.UNSOLD.value
    active, inactive_funds = SubscriptionStatus.ACTIVE.value, SubscriptionStatus.INACTIVE_FUNDS.value
    level = CompetitionLevel._meta.db_table
    return f"""
CREATE OR REPLACE FUNCTION {names['sell']}(
  p_lead_id bigint, p_now timestamptz, p_at text, p_trigger text, p_actor_id bigint, p_from_status text,
  p_doc jsonb, p_category_id bigint, p_category_slug text, p_postal text, p_prefixes text[],
  p_levels jsonb, p_memo text, p_slack int, p_max_rereads int)
RETURNS jsonb LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $f$
DECLARE
  v_level_id bigint; v_slug text; v_name text; v_price bigint; v_max int;
  v_limit int; v_rereads int; v_lost int; v_need_read boolean;
  v_considered bigint; v_eligible bigint; v_cursor bigint;
  v_skipped jsonb; v_skipped_ids jsonb; v_eligible_ids jsonb;
  c_sub bigint[]; c_prov bigint[]; c_last timestamptz[]; c_capped boolean[]; c_bal bigint[];
  v_seen bigint[]; v_tried bigint[]; b_idx int[];
  s_sub bigint[]; s_prov bigint[]; s_pos int[]; s_last timestamptz[];
  lk_prov bigint[]; lk_bal bigint[]; lk_alerted boolean[]; lk_threshold bigint[];
  rc_sub bigint[]; rc_reason text[]; v_recheck_ids bigint[];
  rec record; i int; k int; j int; v_reason text; v_moved boolean; v_bal bigint; v_alert boolean;
  v_entry bigint; v_why text; v_trace jsonb; v_deactivated bigint[]; v_chosen jsonb; v_served jsonb;
  v_levels jsonb := '[]'; v_sales jsonb := '[]'; v_sold_slug text; v_sold_level bigint; v_last_prov bigint;
  v_outcome text; v_buyers int := 0; v_run record;
BEGIN
  FOR i IN 0 .. jsonb_array_length(p_levels) - 1 LOOP
    v_level_id := (p_levels->i->>0)::bigint; v_slug := p_levels->i->>1; v_name := p_levels->i->>2;
    v_price := (p_levels->i->>3)::bigint; v_max := (p_levels->i->>4)::int;
    v_limit := v_max + p_slack; v_rereads := 0; v_need_read := true;
    s_sub := '{{}}'; s_prov := '{{}}'; s_pos := '{{}}'; s_last := '{{}}';
    LOOP
      IF v_need_read THEN
        -- read the level: reason counts and the first eligible subscriptions in serving order
        v_need_read := false; v_considered := 0; v_eligible := 0; v_cursor := 0; v_lost := 0;
        v_skipped := '{{}}'; v_skipped_ids := '{{}}'; v_eligible_ids := '[]';
        c_sub := '{{}}'; c_prov := '{{}}'; c_last := '{{}}'; c_capped := '{{}}'; c_bal := '{{}}';
        v_tried := '{{}}';
        FOR rec IN {level_read} LOOP
          IF rec.kind = 0 THEN
            v_considered := v_considered + rec.n; v_cursor := rec.pos;
            IF rec.reason IS NULL THEN
              v_eligible := rec.n; v_eligible_ids := rec.ids;
            ELSE
              v_skipped := v_skipped || jsonb_build_object(rec.reason, rec.n);
              IF jsonb_array_length(rec.ids) > 0 THEN
                v_skipped_ids := v_skipped_ids || jsonb_build_object(rec.reason, rec.ids);
              END IF;
            END IF;
          ELSE
            c_sub := c_sub || rec.subscription_id; c_prov := c_prov || rec.provider_id;
            c_last := c_last || rec.last_served_at; c_capped := c_capped || rec.capped;
            c_bal := c_bal || rec.balance;
          END IF;
        END LOOP;
        v_seen := c_sub;
      END IF;
      EXIT WHEN cardinality(s_sub) >= v_max;
      -- the next batch: untried candidates, as many as places are left
      b_idx := '{{}}';
      FOR k IN 1 .. cardinality(c_sub) LOOP
        IF NOT (c_sub[k] = ANY (v_tried)) THEN
          b_idx := b_idx || k;
          EXIT WHEN cardinality(b_idx) >= v_max - cardinality(s_sub);
        END IF;
      END LOOP;
      IF cardinality(b_idx) = 0 THEN
        EXIT WHEN cardinality(c_sub) < v_limit;  -- every eligible subscription has been tried
        v_limit := v_limit + v_max + p_slack;
        c_sub := '{{}}'; c_prov := '{{}}'; c_last := '{{}}'; c_capped := '{{}}'; c_bal := '{{}}';
        FOR rec IN {level_read} LOOP
          CONTINUE WHEN rec.kind = 0;
          c_sub := c_sub || rec.subscription_id; c_prov := c_prov || rec.provider_id;
          c_last := c_last || rec.last_served_at; c_capped := c_capped || rec.capped;
          c_bal := c_bal || rec.balance;
          IF NOT (rec.subscription_id = ANY (v_seen)) THEN v_seen := v_seen || rec.subscription_id; END IF;
        END LOOP;
        EXIT WHEN c_sub <@ v_tried;
        CONTINUE;
      END IF;
      FOREACH k IN ARRAY b_idx LOOP v_tried := v_tried || c_sub[k]; END LOOP;
      -- lock the batch's accounts in provider-id order (money's lock order), then re-check caps
      SELECT array_agg(x.provider_id ORDER BY x.provider_id), array_agg(x.balance_cents ORDER BY x.provider_id),
             array_agg(x.low_balance_alerted_at IS NOT NULL ORDER BY x.provider_id),
             array_agg(x.threshold ORDER BY x.provider_id)
        INTO lk_prov, lk_bal, lk_alerted, lk_threshold
        FROM (SELECT a.provider_id, a.balance_cents, a.low_balance_alerted_at,
                     (SELECT p.low_balance_threshold_cents FROM {provider} p WHERE p.id = a.provider_id) AS threshold
              FROM {account} a
              WHERE a.provider_id = ANY (ARRAY(SELECT c_prov[b] FROM unnest(b_idx) b))
              ORDER BY a.provider_id FOR UPDATE OF a) x;
      v_recheck_ids := ARRAY(SELECT c_sub[b] FROM unnest(b_idx) b WHERE c_capped[b]);
      rc_sub := NULL; rc_reason := NULL;
      IF cardinality(v_recheck_ids) > 0 THEN
        SELECT array_agg(rc.subscription_id), array_agg(rc.reason) INTO rc_sub, rc_reason FROM ({recheck}) rc;
      END IF;
      v_moved := false;
      FOREACH k IN ARRAY b_idx LOOP
        j := array_position(lk_prov, c_prov[k]);
        IF c_bal[k] IS NOT NULL AND (j IS NULL OR lk_bal[j] IS DISTINCT FROM c_bal[k]) THEN v_moved := true; END IF;
      END LOOP;
      IF v_moved AND cardinality(s_sub) = 0 AND v_rereads < p_max_rereads THEN
        -- a concurrent sale moved an account of the batch since the level was read: its serving order is
        -- stale. Read it again (the locks held keep those accounts still), so simultaneous leads take turns.
        v_rereads := v_rereads + 1; v_need_read := true;
        CONTINUE;
      END IF;
      FOR k IN SELECT b FROM unnest(b_idx) b ORDER BY c_prov[b] LOOP
        j := array_position(lk_prov, c_prov[k]);
        v_reason := NULL;
        IF rc_sub IS NOT NULL AND array_position(rc_sub, c_sub[k]) IS NOT NULL THEN
          v_reason := rc_reason[array_position(rc_sub, c_sub[k])];
        ELSIF c_capped[k] THEN
          v_reason := '{r.INACTIVE.value}';  -- vanished since the read
        END IF;
        IF v_reason IS NULL AND (j IS NULL OR lk_bal[j] < v_price) THEN v_reason := '{r.BALANCE.value}'; END IF;
        IF v_reason IS NOT NULL THEN
          v_skipped := jsonb_set(v_skipped, ARRAY[v_reason], to_jsonb(COALESCE((v_skipped->>v_reason)::bigint, 0) + 1));
          v_skipped_ids := jsonb_set(v_skipped_ids, ARRAY[v_reason],
                                     COALESCE(v_skipped_ids->v_reason, '[]'::jsonb) || to_jsonb(c_prov[k]));
          v_lost := v_lost + 1;
          CONTINUE;
        END IF;
        -- the charge: the balance was read under the lock just taken, so it is exact
        v_bal := lk_bal[j] - v_price;
        v_alert := NOT lk_alerted[j] AND v_bal < lk_threshold[j];
        UPDATE {account} SET balance_cents = balance_cents - v_price, updated_at = clock_timestamp(),
               low_balance_alerted_at = CASE WHEN v_alert THEN clock_timestamp() ELSE low_balance_alerted_at END
         WHERE provider_id = c_prov[k] AND balance_cents >= v_price;
        IF NOT FOUND THEN
          RAISE EXCEPTION 'balance of provider % moved under its lock', c_prov[k] USING ERRCODE = '40001';
        END IF;
        lk_bal[j] := v_bal; lk_alerted[j] := lk_alerted[j] OR v_alert;
        INSERT INTO {ledger} (account_id, kind, amount_cents, balance_after_cents, idempotency_key, actor_id, memo,
                              reference, related_type, related_id, refund_of_id, created_at)
        VALUES (c_prov[k], 'charge', -v_price, v_bal, 'charge:' || p_lead_id || ':' || c_prov[k], NULL,
                left(p_memo || ' (' || v_name || ')', 500), '', 'leads.lead', p_lead_id::text, NULL, clock_timestamp())
        RETURNING id INTO v_entry;
        INSERT INTO {asg} (lead_id, provider_id, level_id, subscription_id, category_id, price_cents, status,
                           charge_entry_id, reject_reason, assigned_at, in_area_at_sale)
        VALUES (p_lead_id, c_prov[k], v_level_id, c_sub[k], p_category_id, v_price, '{assigned}', v_entry, '',
                p_now, true);
        s_sub := s_sub || c_sub[k]; s_prov := s_prov || c_prov[k]; s_last := s_last || c_last[k];
        s_pos := s_pos || (array_position(v_seen, c_sub[k]) - 1);
        -- SPEC §4.3: every active subscription of this provider priced above the new balance becomes
        -- inactive_funds now (levels.services.subscriptions_sync_funds; SKIP LOCKED like it: a row someone else
        -- holds is left to the 5-minute sweep rather than waited for under the account lock)
        WITH d AS (
          UPDATE {subscription} SET status = '{inactive_funds}', updated_at = clock_timestamp()
           WHERE id IN (SELECT sx.id FROM {subscription} sx JOIN {level} lx ON lx.id = sx.level_id
                         WHERE sx.provider_id = c_prov[k] AND sx.status = '{active}' AND lx.archived_at IS NULL
                           AND lx.price_cents > v_bal
                         ORDER BY sx.id FOR UPDATE OF sx SKIP LOCKED)
          RETURNING id)
        SELECT COALESCE(array_agg(d.id ORDER BY d.id), '{{}}') INTO v_deactivated FROM d;
        v_sales := v_sales || jsonb_build_object('provider_id', c_prov[k], 'entry_id', v_entry,
                                                 'balance_after_cents', v_bal, 'low_balance_alert', v_alert,
                                                 'deactivated', to_jsonb(v_deactivated));
      END LOOP;
    END LOOP;
    -- the level's trace (SPEC §4.5), the same shape and words as engine._sell_at_level
    IF cardinality(s_sub) > 0 THEN
      v_why := format('%s eligible; sold to %s of at most %s: least recently served at this level first '
                      '(never served first), ties broken by rotation after provider #%s.',
                      v_eligible, cardinality(s_sub), v_max, v_cursor);
    ELSIF v_eligible > 0 AND v_lost > 0 THEN
      v_why := format('%s eligible when the level was read, but none passed the re-check under locks '
                      '(a cap or the balance was reached by a concurrent sale).', v_eligible);
    ELSIF v_skipped = '{{}}'::jsonb THEN
      v_why := 'No live subscription at this level.';
    ELSE
      SELECT 'No eligible subscription (' || string_agg(e.value || ' ' || e.key, ', '
                                                        ORDER BY e.value::bigint DESC, e.key) || ').'
        INTO v_why FROM jsonb_each_text(v_skipped) e;
    END IF;
    v_chosen := '[]'; v_served := '[]';
    IF cardinality(s_sub) > 0 THEN
      SELECT jsonb_agg(s_prov[o] ORDER BY s_pos[o]),
             jsonb_agg(jsonb_build_object('provider_id', s_prov[o], 'subscription_id', s_sub[o],
                                          'last_served_at', {iso('s_last[o]')}) ORDER BY s_pos[o])
        INTO v_chosen, v_served FROM generate_subscripts(s_sub, 1) o;
    END IF;
    IF v_lost > 0 THEN  -- ids added by the re-check: keep every list sorted, like the read returned it
      SELECT jsonb_object_agg(e.key, (SELECT jsonb_agg(x ORDER BY x::bigint) FROM jsonb_array_elements(e.value) x))
        INTO v_skipped_ids FROM jsonb_each(v_skipped_ids) e;
    END IF;
    v_trace := jsonb_build_object(
      'level', v_slug, 'price_cents', v_price, 'max_recipients', v_max, 'considered', v_considered,
      'eligible', greatest(v_eligible - v_lost, 0), 'skipped', v_skipped, 'chosen', v_chosen, 'why', v_why,
      'cursor_before', v_cursor, 'served', v_served, 'eligible_providers', v_eligible_ids,
      'skipped_providers', v_skipped_ids);
    v_levels := v_levels || jsonb_build_array(v_trace);
    IF cardinality(s_sub) > 0 THEN
      v_sold_slug := v_slug; v_sold_level := v_level_id; v_buyers := cardinality(s_sub);
      SELECT s_prov[o] INTO v_last_prov FROM generate_subscripts(s_sub, 1) o ORDER BY s_pos[o] DESC LIMIT 1;
      UPDATE {subscription} SET last_served_at = p_now WHERE id = ANY (s_sub);
      EXIT;
    END IF;
  END LOOP;
  v_outcome := CASE WHEN v_buyers > 0 THEN '{distributed}' ELSE '{unsold}' END;
  UPDATE {lead} SET status = v_outcome, buyers_count = v_buyers, updated_at = p_now,
         status_changed_at = CASE WHEN v_outcome <> p_from_status THEN p_now ELSE status_changed_at END,
         distributed_at = CASE WHEN v_outcome = '{distributed}' THEN p_now ELSE distributed_at END
   WHERE id = p_lead_id;
  IF v_outcome <> p_from_status THEN
    INSERT INTO {event} (lead_id, from_status, to_status, action, actor_id, note, data, created_at)
    VALUES (p_lead_id, p_from_status, v_outcome, CASE WHEN v_buyers > 0 THEN 'distributed' ELSE 'unsold' END,
            p_actor_id, '', jsonb_build_object('trigger', p_trigger, 'level', v_sold_slug, 'buyers', v_buyers),
            clock_timestamp());
  END IF;
  INSERT INTO {run} (lead_id, trigger, actor_id, outcome, buyers, trace, started_at, finished_at, duration_ms)
  VALUES (p_lead_id, p_trigger, p_actor_id, v_outcome, v_buyers,
          jsonb_build_object('lead', jsonb_build_object('category', p_category_slug, 'postal_code', p_postal),
                             'at', p_at, 'outcome', v_outcome, 'level', v_sold_slug, 'levels', v_levels),
          clock_timestamp(), clock_timestamp(),
          round((extract(epoch FROM clock_timestamp() - now()) * 1000)::numeric, 3))
  RETURNING id, started_at, finished_at, duration_ms, trace INTO v_run;
  IF v_buyers > 0 THEN
    -- the level's cursor last: the one row every sale at this level writes is held the shortest time
    INSERT INTO {cursor} (level_id, last_provider_id, updated_at) VALUES (v_sold_level, v_last_prov, clock_timestamp())
    ON CONFLICT (level_id) DO UPDATE SET last_provider_id = EXCLUDED.last_provider_id, updated_at = EXCLUDED.updated_at;
  END IF;
  RETURN jsonb_build_object('run_id', v_run.id, 'outcome', v_outcome, 'buyers', v_buyers, 'level', v_sold_slug,
                            'started_at', v_run.started_at, 'finished_at', v_run.finished_at,
                            'duration_ms', v_run.duration_ms, 'trace', v_run.trace, 'sales', v_sales);
END
$f$;
"""


def _template_hash() -> str:
    placeholder = {"sell": "<sell>"}
    return hashlib.sha256(_functions_sql(placeholder).encode()).hexdigest()[:10]


_names_cache: dict[str, str] | None = None


def function_names() -> dict[str, str]:
    global _names_cache
    if _names_cache is None:
        digest = _template_hash()
        _names_cache = {"sell": f"{PREFIX}sell_{digest}"}
    return _names_cache


def functions_install(using: str = "default", **_kwargs) -> bool:
    """Create this code's version of the functions (post_migrate); drop older versions. True if created."""
    from django.db import connections

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


@dataclass(frozen=True)
class SaleResult:
    run_id: int
    outcome: str
    buyers: int
    level: str | None
    started_at: datetime
    finished_at: datetime
    duration_ms: float
    trace: dict
    sales: list[SoldTo]


def lead_sell(*, lead: Lead, facts: LeadFacts, levels: list, now: datetime, trigger: str, actor_id: int | None,
              slack: int, max_rereads: int) -> SaleResult:
    """Run `hl_lead_sell` for a lead whose row the caller has locked; returns what it did."""
    from django.utils.dateparse import parse_datetime

    args = [
        facts.id, now, now.isoformat(), trigger, actor_id, lead.status, json.dumps(facts.filter_doc()),
        facts.category_id, facts.category, facts.postal_code, _prefixes(facts.postal_code),
        json.dumps([[lv.id, lv.slug, lv.name, lv.price_cents, lv.max_recipients] for lv in levels]),
        f"Lead {lead.public_id}", slack, max_rereads,
    ]
    sql = (f"SELECT {function_names()['sell']}(%s, %s, %s, %s, %s, %s, %s::jsonb, %s, %s, %s, %s::text[], "
           f"%s::jsonb, %s, %s, %s)")
    with connection.cursor() as cursor:
        cursor.execute(sql, args)
        out = cursor.fetchone()[0]
    if isinstance(out, str):
        out = json.loads(out)
    return SaleResult(
        run_id=out["run_id"], outcome=out["outcome"], buyers=out["buyers"], level=out["level"],
        started_at=parse_datetime(out["started_at"]), finished_at=parse_datetime(out["finished_at"]),
        duration_ms=float(out["duration_ms"]), trace=out["trace"],
        sales=[SoldTo(provider_id=s["provider_id"], entry_id=s["entry_id"],
                      balance_after_cents=s["balance_after_cents"], low_balance_alert=s["low_balance_alert"],
                      deactivated=s["deactivated"])
               for s in out["sales"]],
    )
