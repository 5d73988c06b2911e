#!/usr/bin/env python
"""Benchmark the provider inbox (issue 7): `scripts/bench inbox [options]`.

Builds its own PostgreSQL database (default `hl_bench_inbox` on the server of DATABASE_URL) with
10,000 providers and 1,000,000 assignments — each backed by its lead, subscription and charge
ledger entry — bulk-loaded with INSERT … SELECT generate_series. Then it times GET
/api/v1/provider/inbox through the whole Django stack (middleware, bearer auth, ninja, the selector,
serialisation) for one busy provider: page 1 and page 1,000 (followed by cursor), plus filtered
first pages; prints p50/p95, the EXPLAIN of the page-1,000 query, and checks the targets:
p95 ≤ 20 ms, page 1,000 p95 within 1.5× page 1, an index scan and no sort. Exit 1 if a target is missed.

    scripts/bench inbox                     # build (or reuse, if already built with the same sizes) and measure
    scripts/bench inbox --rebuild           # drop and rebuild the database first
    scripts/bench inbox --providers 1000 --assignments 100000 --busy 60000   # a quicker run
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.bench_support import common  # noqa: E402 - after the root is on sys.path

DATA_SHAPE = "v2"  # bump when the generated data changes, so an older database is not silently reused
P95_TARGET_MS = 20.0
DEEP_RATIO_TARGET = 1.5
CATEGORIES = 20
# the category of lead k: a hash, so that any subset of leads (the busy provider's) spans every category
CATEGORY_OF_K = f"1 + mod(hashint4(k::int)::bigint + 2147483648, {CATEGORIES})"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/hotlead"),
                        help="a PostgreSQL URL; only its server is used (default: $DATABASE_URL)")
    parser.add_argument("--db-name", default="hl_bench_inbox", help="the benchmark's own database")
    parser.add_argument("--providers", type=int, default=10_000)
    parser.add_argument("--assignments", type=int, default=1_000_000)
    parser.add_argument("--busy", type=int, default=60_000,
                        help="about this many assignments go to the busy provider (≥ page × limit + 1)")
    parser.add_argument("--runs", type=int, default=500, help="timed requests per measured page")
    parser.add_argument("--page", type=int, default=1000, help="the deep page to measure")
    parser.add_argument("--limit", type=int, default=50)
    parser.add_argument("--rebuild", action="store_true", help="drop and rebuild the database")
    args = parser.parse_args()
    if args.assignments % 2:
        parser.error("--assignments must be even (every lead is sold twice)")
    leads = args.assignments // 2
    if args.busy > leads or leads // max(1, leads // args.busy) < args.page * args.limit + 1:
        parser.error("--busy must hold the deep page (page × limit + 1) and be at most half of --assignments")
    return args


# ---- bulk load ----------------------------------------------------------------------------------------------

def load(args) -> None:
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.db import connection, transaction

    from hotlead.accounts.models import User
    from hotlead.billing.models import Account, LedgerEntry
    from hotlead.distribution.models import Assignment
    from hotlead.leads.models import Category, Lead
    from hotlead.levels.models import CompetitionLevel, Subscription
    from hotlead.providers.models import Provider

    step = common.Timer()
    call_command("migrate", verbosity=0)
    step.done("migrate")
    P, A, busy = args.providers, args.assignments, args.busy
    leads = A // 2
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SET LOCAL synchronous_commit = off")
        Category.objects.bulk_create(
            [Category(id=i + 1, slug=f"bench-{i + 1}", name=f"Bench category {i + 1}") for i in range(CATEGORIES)]
        )
        CompetitionLevel.objects.bulk_create([
            CompetitionLevel(id=1, name="Semi-exclusive", slug="semi-exclusive", rank=1, price_cents=6000,
                             max_recipients=3),
            CompetitionLevel(id=2, name="Shared", slug="shared", rank=2, price_cents=2500, max_recipients=5),
        ])
        common.insert_select(cur, User, {
            "id": "g", "email": "'bench-provider-' || g || '@bench.hotlead.test'", "role": "'provider'",
            "password": ("%s", [make_password("bench-password-not-used")]),
        }, "generate_series(1, %s) g", [P])
        common.insert_select(cur, Provider, {
            "id": "g", "user": "g", "company_name": "'Bench Co ' || g", "contact_name": "'Bench Contact'",
            "phone": "'+14155550100'", "timezone": "'America/Los_Angeles'", "status": "'active'",
            "email_verified_at": "now()",
        }, "generate_series(1, %s) g", [P])
        common.insert_select(cur, Subscription, {
            "id": "(p - 1) * 2 + l", "provider": "p", "level": "l", "status": "'active'", "filters": "'[]'::jsonb",
        }, "generate_series(1, %s) p CROSS JOIN generate_series(1, 2) l", [P])
        step.done(f"{P:,} users, providers; {2 * P:,} subscriptions")
        # Lead k (newest first: k = 1 is the latest) is sold twice, at the same moment, at level 1 + k % 2.
        common.insert_select(cur, Lead, {
            "id": "k", "public_id": "gen_random_uuid()", "reference": "'HL-B' || k", "name": "'Bench Lead ' || k",
            "email": "'lead-' || k || '@example.org'", "phone": "'+1415' || lpad(mod(k, 10000000)::text, 7, '0')",
            "postal_code": "(94000 + mod(k, 1000))::text", "category": CATEGORY_OF_K,
            "description": "'Bench lead'",
            "consent_text_version": "'2026-01'", "consent_at": "t0 - k * interval '63 seconds' - interval '1 hour'",
            "status": "'distributed'", "buyers_count": "2",
            "distributed_at": "t0 - k * interval '63 seconds'",
            "created_at": "t0 - k * interval '63 seconds' - interval '1 hour'",
        }, "generate_series(1, %s) k, (SELECT now() AS t0) t", [leads])
        step.done(f"{leads:,} leads")
        # Sale g: lead (g + 1) / 2, so every lead is sold twice at the same moment. The busy provider (id 1)
        # buys the odd sale of every `stride`-th lead, spread over the whole year like a real busy buyer;
        # every other sale goes to providers 2..P, never the same provider twice for one lead.
        stride = max(1, leads // busy)
        cur.execute(f"""
            CREATE UNLOGGED TABLE bench_sale AS
            SELECT g, k AS lead_id,
                   CASE WHEN mod(g, 2) = 1 AND mod(k, {stride}) = 0 THEN 1
                        ELSE 2 + mod(g * 7919, {int(P) - 1}) END AS provider_id,
                   1 + mod(k, 2) AS level_id, {CATEGORY_OF_K} AS category_id,
                   CASE WHEN mod(k, 2) = 0 THEN 6000 ELSE 2500 END AS price,
                   t0 - k * interval '63 seconds' AS assigned_at
            FROM generate_series(1::bigint, {int(A)}) g, LATERAL (SELECT (g + 1) / 2 AS k) kk, (SELECT now() AS t0) t
        """)
        cur.execute("""
            CREATE UNLOGGED TABLE bench_funding AS
            SELECT provider_id, sum(price) + 100000 AS deposit FROM bench_sale GROUP BY provider_id
        """)
        step.done(f"{A:,} sales staged")
        common.insert_select(cur, LedgerEntry, {
            "id": f"{int(A)} + f.provider_id", "account": "f.provider_id", "kind": "'deposit'",
            "amount_cents": "f.deposit",
            "balance_after_cents": "f.deposit", "idempotency_key": "'bench-deposit:' || f.provider_id",
            "memo": "'Bench deposit'", "created_at": "now() - interval '400 days'",
        }, "bench_funding f")
        common.ledger_charges_insert(cur)
        common.insert_select(cur, Account, {"provider": "f.provider_id", "balance_cents": "100000"}, "bench_funding f")
        step.done(f"{A + P:,} ledger entries, {P:,} accounts")
        common.insert_select(cur, Assignment, {
            "id": "s.g", "lead": "s.lead_id", "provider": "s.provider_id", "level": "s.level_id",
            "subscription": "(s.provider_id - 1) * 2 + s.level_id", "category": "s.category_id",
            "price_cents": "s.price",
            "status": "CASE WHEN mod(s.g, 10) < 2 THEN 'accepted' WHEN mod(s.g, 10) = 2 THEN 'rejected' "
                      "ELSE 'assigned' END",
            "charge_entry": "s.g", "assigned_at": "s.assigned_at",
            "accepted_at": "CASE WHEN mod(s.g, 10) < 2 THEN s.assigned_at + interval '1 hour' END",
            "rejected_at": "CASE WHEN mod(s.g, 10) = 2 THEN s.assigned_at + interval '1 hour' END",
            "reject_reason": "CASE WHEN mod(s.g, 10) = 2 THEN 'Too far' ELSE '' END",
        }, "bench_sale s")
        step.done(f"{A:,} assignments")
        common.load_finish(cur, (User, Provider, Subscription, Lead, LedgerEntry, Assignment, Category,
                                 CompetitionLevel), f"{DATA_SHAPE}:{P}/{A}/{busy}")
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE")
    step.done("vacuum analyze")


# ---- measurement --------------------------------------------------------------------------------------------

def measure(args) -> bool:
    from django.db import connection
    from django.test import Client

    from hotlead.accounts.tokens import access_token_encode
    from hotlead.distribution.models import Assignment
    from hotlead.distribution.selectors.inbox import inbox_cursor_decode, inbox_keys_queryset, inbox_rows_queryset
    from hotlead.providers.models import Provider

    busy = Provider.objects.select_related("user").get(pk=1)
    token, _ = access_token_encode(user=busy.user, mfa=False)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    client = Client()
    base = f"/api/v1/provider/inbox?limit={args.limit}"
    total = Assignment.objects.count()
    own = Assignment.objects.filter(provider_id=1).count()
    print(f"\nbusy provider: {own:,} of {total:,} assignments; {Provider.objects.count():,} providers")

    # Follow next_cursor through the real API down to the deep page.
    cursor = None
    walk = time.perf_counter()
    for _ in range(args.page - 1):
        cursor = client.get(base + (f"&cursor={cursor}" if cursor else ""), **headers).json()["next_cursor"]
    print(f"walked {args.page - 1} pages by cursor in {time.perf_counter() - walk:.1f} s")

    category = Assignment.objects.filter(provider_id=1).order_by("-assigned_at").values_list(
        "category__slug", flat=True).first()
    cases = {
        "page 1": base,
        f"page {args.page:,}": f"{base}&cursor={cursor}",
        "page 1, status=accepted": f"{base}&status=accepted",
        f"page 1, category={category}": f"{base}&category={category}",
    }
    # Interleaved rounds (one request of each case per round), so load from elsewhere on the machine
    # weighs on every case alike and the page-1 / deep-page comparison stays fair.
    results: dict[str, list[float]] = {label: [] for label in cases}
    for round_number in range(args.runs + max(5, args.runs // 10)):
        for label, url in cases.items():
            started = time.perf_counter()
            response = client.get(url, **headers)
            elapsed = (time.perf_counter() - started) * 1000
            assert response.status_code == 200 and len(response.json()["items"]) == args.limit, label
            if round_number >= max(5, args.runs // 10):  # the first rounds warm up connections and caches
                results[label].append(elapsed)
    load1, load5, _ = os.getloadavg()
    print(f"\n{args.runs} interleaved rounds; machine load average {load1:.1f} (1 min), {load5:.1f} (5 min), "
          f"{os.cpu_count()} CPUs")
    print(f"{'request (limit ' + str(args.limit) + ')':<34} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for label, samples in results.items():
        print(f"{label:<34} {statistics.median(samples):8.2f} {common.percentile(samples, 95):8.2f} "
              f"{max(samples):8.2f}")

    page_cursor = inbox_cursor_decode(cursor)
    keys_plan = inbox_keys_queryset(provider_id=1, cursor=page_cursor, limit=args.limit).explain(
        analyze=True, buffers=True)
    ids = [pk for pk, _ in inbox_keys_queryset(provider_id=1, cursor=page_cursor, limit=args.limit)][: args.limit]
    rows_plan = inbox_rows_queryset(ids=ids).explain(analyze=True, buffers=True)
    print(f"\nEXPLAIN (ANALYZE, BUFFERS) of the page-{args.page:,} keys query:\n{keys_plan}")
    print(f"\nEXPLAIN (ANALYZE, BUFFERS) of its rows query:\n{rows_plan}")
    connection.close()

    p1 = common.percentile(results["page 1"], 95)
    deep = common.percentile(results[f"page {args.page:,}"], 95)

    def nodes(plan: str) -> list[str]:
        return [line.strip().removeprefix("->").strip() for line in plan.splitlines()]

    checks = {
        f"p95 of every measured request ≤ {P95_TARGET_MS:.0f} ms": all(
            common.percentile(s, 95) <= P95_TARGET_MS for s in results.values()),
        f"page {args.page:,} p95 ≤ {DEEP_RATIO_TARGET}× page 1 p95 ({deep:.2f} vs {p1:.2f} ms)":
            deep <= DEEP_RATIO_TARGET * p1,
        "the keys query is an index scan of assignment_inbox_idx": any(
            node.startswith(("Index Only Scan using assignment_inbox_idx", "Index Scan using assignment_inbox_idx"))
            for node in nodes(keys_plan)),
        "no Sort node in either query": not any(
            node.startswith(("Sort", "Incremental Sort")) for node in nodes(keys_plan) + nodes(rows_plan)),
    }
    return common.checks_report(checks.items()) == 0


def main() -> int:
    args = parse_args()
    print(f"==> bench inbox: {args.providers:,} providers, {args.assignments:,} assignments, "
          f"busy provider {args.busy:,}, database {args.db_name}")
    sizes = f"{DATA_SHAPE}:{args.providers}/{args.assignments}/{args.busy}"
    must_load = common.database_prepare(args.database_url, args.db_name, sizes, rebuild=args.rebuild)
    common.django_setup(common.url_for(args.database_url, args.db_name), ROOT, allow_dev_secret=False)
    if must_load:
        print("loading (once; reused by later runs):")
        load(args)
    else:
        print("reusing the loaded database (--rebuild to start over)")
    return 0 if measure(args) else 1


if __name__ == "__main__":
    sys.exit(main())
