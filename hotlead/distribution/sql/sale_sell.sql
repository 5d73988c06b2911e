-- The sale of one lead in one call, on PostgreSQL (SPEC §4.2, §4.3, §4.5): hl_sale_sell_<hash>.
--
-- A template, rendered and installed by hotlead/distribution/services/sale_sql.py: each name in single
-- braces is filled from the fixed set of values `_functions_sql` builds (table names, enum values, the
-- eligibility SQL of eligibility_sql.py with its parameters replaced by this function's variables), never
-- from input; doubled braces are literal ones. The function's name carries a hash of the rendered text.
--
-- Steps: lock the lead row; apply the caller's policy (p_statuses, p_fresh_since); walk the live, active
-- levels by rank; at each, read the eligible subscriptions in serving order, lock the batch's accounts in
-- provider-id order, re-check the capped ones, re-read the level when an account moved since the read,
-- charge, assign, sync the buyer's subscriptions with the new balance; at the first level that sells, move
-- last-served times; then record the lead's outcome and history, store the run with its trace, and move the
-- level's cursor last.
--
-- Returns jsonb. Refused, nothing written: refused (missing, fraud, status or stale) and, unless missing,
-- the lead's status.
-- Otherwise: run_id, outcome, buyers, level (the slug sold at, or null), from_status, public_id,
-- postal_code, category_id, started_at, finished_at, duration_ms, trace, and sales: per buyer provider_id,
-- entry_id, balance_after_cents, low_balance_alert (armed by this charge), deactivated and reactivated
-- (subscription ids whose status the charge changed).
CREATE OR REPLACE FUNCTION {sell}(
  p_lead_id bigint, p_now timestamptz, p_at text, p_trigger text, p_actor_id bigint,
  p_statuses text[], p_fresh_since timestamptz, p_slack int, p_max_rereads int)
RETURNS jsonb LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $f$
DECLARE
  v_lead record; p_from_status text; p_doc jsonb; p_category_id bigint; p_category_slug text; p_postal text;
  p_prefixes text[]; p_levels jsonb; p_memo text;
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
  v_entry bigint; v_why text; v_trace jsonb; v_deactivated bigint[];
  v_reactivated bigint[]; v_max_live_price bigint; v_chosen jsonb; v_served jsonb;
  v_levels jsonb := '[]'; v_sales jsonb := '[]'; v_sold_slug text; v_sold_level bigint; v_last_prov bigint;
  v_outcome text; v_buyers int := 0; v_run record;
BEGIN
  -- the lead's row lock first: two runs of one lead serialise here, and the second finds it no longer waiting
  SELECT l.status, l.is_fraud, l.approved_at, l.created_at, l.category_id, c.slug AS category_slug, l.public_id,
         l.postal_code, l.budget_cents, l.timeline, l.source
    INTO v_lead FROM {lead} l JOIN {category} c ON c.id = l.category_id WHERE l.id = p_lead_id FOR UPDATE OF l;
  IF NOT FOUND THEN
    RETURN jsonb_build_object('refused', 'missing');
  END IF;
  -- the caller's policy (engine._run_policy), applied under the lock
  IF v_lead.is_fraud THEN
    RETURN jsonb_build_object('refused', 'fraud', 'status', v_lead.status);
  ELSIF NOT (v_lead.status = ANY (p_statuses)) THEN
    RETURN jsonb_build_object('refused', 'status', 'status', v_lead.status);
  ELSIF p_fresh_since IS NOT NULL AND COALESCE(v_lead.approved_at, v_lead.created_at) < p_fresh_since THEN
    RETURN jsonb_build_object('refused', 'stale', 'status', v_lead.status);
  END IF;
  -- what eligibility knows of the lead (facts.lead_facts_of, LeadFacts.filter_doc)
  p_from_status := v_lead.status; p_category_id := v_lead.category_id; p_category_slug := v_lead.category_slug;
  p_postal := {lead_postal_code};
  p_prefixes := ARRAY(SELECT left(p_postal, n) FROM generate_series(1, length(p_postal)) n);
  p_doc := jsonb_strip_nulls(jsonb_build_object(
    'category', NULLIF(p_category_slug, ''), 'postal_code', NULLIF(p_postal, ''), 'budget_cents', v_lead.budget_cents,
    'timeline', NULLIF(v_lead.timeline, ''), 'source', NULLIF(v_lead.source, '')));
  p_memo := 'Lead ' || v_lead.public_id;
  -- the walk: live, active levels by rank (SPEC §4.2)
  SELECT COALESCE(jsonb_agg(jsonb_build_array(lx.id, lx.slug, lx.name, lx.price_cents, lx.max_recipients)
                            ORDER BY lx.rank, lx.id), '[]')
    INTO p_levels FROM {level} lx WHERE lx.archived_at IS NULL AND lx.active;
  SELECT COALESCE(max(lx.price_cents), 0) INTO v_max_live_price FROM {level} lx WHERE lx.archived_at IS NULL;
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
          v_reason := '{reason_inactive}';  -- vanished since the read
        END IF;
        IF v_reason IS NULL AND (j IS NULL OR lk_bal[j] < v_price) THEN v_reason := '{reason_balance}'; END IF;
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
                p_now, EXISTS (SELECT 1 FROM {area} ar WHERE ar.provider_id = c_prov[k]
                               AND ((ar.kind = '{area_code}' AND ar.value = p_postal)
                                    OR (ar.kind = '{area_prefix}' AND ar.value = ANY (p_prefixes)))));
        s_sub := s_sub || c_sub[k]; s_prov := s_prov || c_prov[k]; s_last := s_last || c_last[k];
        s_pos := s_pos || (array_position(v_seen, c_sub[k]) - 1);
        -- SPEC §4.3, as levels.services.funds.subscriptions_sync_funds after a debit: when the balance no longer covers
        -- the dearest live level, active subscriptions priced above it become inactive_funds (and inactive_funds
        -- ones it covers, left stale, become active). SKIP LOCKED like it: a row someone else holds is left to
        -- the 5-minute sweep rather than waited for under the account lock.
        v_deactivated := '{{}}'; v_reactivated := '{{}}';
        IF v_bal < v_max_live_price THEN
          WITH d AS (
            UPDATE {subscription} su
               SET status = CASE WHEN su.status = '{active}' THEN '{inactive_funds}' ELSE '{active}' END,
                   updated_at = clock_timestamp()
              FROM (SELECT sx.id, sx.status AS old_status FROM {subscription} sx JOIN {level} lx ON lx.id = sx.level_id
                     WHERE sx.provider_id = c_prov[k]
                       AND ((sx.status = '{active}' AND lx.price_cents > v_bal)
                            OR (sx.status = '{inactive_funds}' AND lx.price_cents <= v_bal))
                     ORDER BY sx.id FOR UPDATE OF sx SKIP LOCKED) x
             WHERE su.id = x.id
            RETURNING su.id, x.old_status)
          SELECT COALESCE(array_agg(d.id ORDER BY d.id) FILTER (WHERE d.old_status = '{active}'), '{{}}'),
                 COALESCE(array_agg(d.id ORDER BY d.id) FILTER (WHERE d.old_status <> '{active}'), '{{}}')
            INTO v_deactivated, v_reactivated FROM d;
        END IF;
        v_sales := v_sales || jsonb_build_object('provider_id', c_prov[k], 'entry_id', v_entry,
                                                 'balance_after_cents', v_bal, 'low_balance_alert', v_alert,
                                                 'deactivated', to_jsonb(v_deactivated),
                                                 'reactivated', to_jsonb(v_reactivated));
      END LOOP;
    END LOOP;
    -- the level's trace (SPEC §4.5), the same shape and words as level_sale._sell_at_level and _why
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
                                          'last_served_at', {s_last_iso}) ORDER BY s_pos[o])
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
                            'from_status', p_from_status, 'public_id', v_lead.public_id,
                            'postal_code', v_lead.postal_code, 'category_id', v_lead.category_id,
                            'started_at', v_run.started_at, 'finished_at', v_run.finished_at,
                            'duration_ms', v_run.duration_ms, 'trace', v_run.trace, 'sales', v_sales);
END
$f$;
