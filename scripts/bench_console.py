#!/usr/bin/env python
"""Benchmark the console's working pages (issue 13): `scripts/bench console [options]`.

Builds two PostgreSQL databases on the server of DATABASE_URL — the large one (default 1,000,000 leads,
10,000 providers) and a small baseline (10,000 leads, the same 10,000 providers) — with set-based SQL
(INSERT … SELECT generate_series): users, providers with a category and a service area, one subscription
each over three levels, leads (the newest waiting for review, most sold once, some unsold or rejected),
an assignment + charge ledger entry per sale, a deposit per provider, distribution runs with traces for
the newest sales, bad-lead reports and audit entries. Then it times, through the whole Django stack with
a staff session verified by TOTP (middleware, admin site, unfold templates), the review queue, the lead
list, a lead page and a provider page: p50/p95 server time per page at both sizes, and their ratio.
Target: p95 ≤ 300 ms per page at the large size. Exit 1 if a target is missed.

    scripts/bench console                       # build (or reuse) both databases and measure
    scripts/bench console --rebuild             # drop and rebuild first
    scripts/bench console --leads 200000        # a quicker large size
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

DATA_SHAPE = "v1"
P95_TARGET_MS = 300.0
CATEGORIES = 20
PENDING = 2_000  # the newest leads wait for review
TRACED = 50_000  # the newest sales carry a distribution run with its trace
LEVELS = ((1, "Exclusive", "exclusive", 12_000, 1), (2, "Semi-exclusive", "semi-exclusive", 6_000, 3),
          (3, "Shared", "shared", 2_500, 5))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url",
                        default=os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/hotlead"))
    parser.add_argument("--db-prefix", default="hl_bench_console")
    parser.add_argument("--providers", type=int, default=10_000)
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--baseline-leads", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=40, help="timed requests per page and size")
    parser.add_argument("--rebuild", action="store_true")
    return parser.parse_args()


def use_database(db_name: str) -> None:
    """Point Django's default connection at one of the benchmark databases."""
    from django.db import connections

    connections["default"].close()
    connections["default"].settings_dict["NAME"] = db_name


def load(providers: int, leads: int, sizes: str) -> None:
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.db import connection, transaction

    from hotlead.accounts.models import User
    from hotlead.billing.models import Account, LedgerEntry
    from hotlead.core.models import AuditLog
    from hotlead.distribution.models import Assignment, DistributionRun
    from hotlead.leads.models import Category, Lead
    from hotlead.levels.models import CompetitionLevel, Subscription
    from hotlead.providers.models import Provider, ServiceArea
    from hotlead.refunds.models import BadLeadReport

    step = common.Timer(width=52)
    call_command("migrate", verbosity=0)
    step.done("migrate")
    P, N = providers, leads
    # provider p: category 1 + p % 20, area prefix '9' || p % 100, one subscription at level 1 + p % 3;
    # lead k: category 1 + k % 20, postal code '9' || k % 100 || …, so ~P/100 providers match each lead.
    level_of_p = "(1 + mod(p, 3))"
    price_of_level = "(CASE {l} WHEN 1 THEN 12000 WHEN 2 THEN 6000 ELSE 2500 END)"
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SET LOCAL synchronous_commit = off")
        Category.objects.bulk_create([Category(id=i + 1, slug=f"bench-{i + 1}", name=f"Bench category {i + 1}")
                                      for i in range(CATEGORIES)])
        CompetitionLevel.objects.bulk_create([CompetitionLevel(id=i, name=n, slug=s, rank=i, price_cents=c,
                                                               max_recipients=m) for i, n, s, c, m in LEVELS])
        common.insert_select(cur, User, {
            "id": "p", "email": "'bench-provider-' || p || '@bench.hotlead.test'", "role": "'provider'",
            "password": ("%s", [make_password("bench-password-not-used")]),
        }, "generate_series(1, %s) p", [P])
        common.insert_select(cur, Provider, {
            "id": "p", "user": "p", "company_name": "'Bench Roofing Co ' || p", "contact_name": "'Bench Contact'",
            "phone": "'+14155550100'", "timezone": "'America/Los_Angeles'", "status": "'active'",
            "email_verified_at": "now()", "flagged": "mod(p, 50) = 0",
            "flagged_reason": "CASE WHEN mod(p, 50) = 0 THEN 'Return rate over 20%%' ELSE '' END",
        }, "generate_series(1, %s) p", [P])
        common.insert_select(cur, Provider.categories.through, {"provider": "p", "category": "1 + mod(p, 20)"},
                             "generate_series(1, %s) p", [P])
        common.insert_select(cur, ServiceArea, {"provider": "p", "kind": "'prefix'",
                                                "value": "'9' || lpad(mod(p, 100)::text, 2, '0')"},
                             "generate_series(1, %s) p", [P])
        common.insert_select(cur, Subscription, {"id": "p", "provider": "p", "level": level_of_p,
                                                 "status": "'active'", "filters": "'[]'::jsonb"},
                             "generate_series(1, %s) p", [P])
        step.done(f"{P:,} users, providers, areas, subscriptions")
        # lead k (k = 1 is the newest): the newest PENDING wait for review; every 50th is unsold, the next rejected
        status = (f"CASE WHEN k <= {PENDING} THEN 'pending_review' WHEN mod(k, 50) = 0 THEN 'unsold' "
                  "WHEN mod(k, 50) = 1 THEN 'rejected' ELSE 'distributed' END")
        common.insert_select(cur, Lead, {
            "id": "k", "public_id": "gen_random_uuid()", "reference": "'HL-C' || k", "name": "'Bench Lead ' || k",
            "email": "'lead-' || k || '@example.org'", "phone": "'+1415' || lpad(mod(k, 10000000)::text, 7, '0')",
            "postal_code": "'9' || lpad(mod(k, 100)::text, 2, '0') || lpad(mod(k, 97)::text, 2, '0')",
            "category": "1 + mod(k, 20)", "description": "'Bench lead: the roof leaks over the kitchen.'",
            "budget_cents": "CASE WHEN mod(k, 3) = 0 THEN NULL ELSE 100000 + mod(k, 40) * 25000 END",
            "consent_text_version": "'2026-01'", "consent_at": "t0 - k * interval '30 seconds'",
            "status": status, "possible_duplicate": "mod(k, 37) = 0",
            "buyers_count": f"CASE WHEN k > {PENDING} AND mod(k, 50) > 1 THEN 1 ELSE 0 END",
            "created_at": "t0 - k * interval '30 seconds'", "status_changed_at": "t0 - k * interval '30 seconds'",
        }, "generate_series(1, %s) k, (SELECT now() AS t0) t", [N])
        step.done(f"{N:,} leads")
        # each sold lead k goes to one provider of its category and area: p ≡ k (mod 100)
        cur.execute(f"""
            CREATE UNLOGGED TABLE bench_sale AS
            SELECT k AS lead_id, p AS provider_id, {level_of_p} AS level_id, 1 + mod(k, 20) AS category_id,
                   {price_of_level.format(l=level_of_p)} AS price, t0 - k * interval '30 seconds' AS assigned_at
            FROM generate_series({PENDING + 1}, {int(N)}) k,
                 LATERAL (SELECT 100 * (1 + mod(k / 100, {max(1, P // 100 - 1)})) + mod(k, 100) AS p) pp,
                 (SELECT now() AS t0) t
            WHERE mod(k, 50) > 1 AND p <= {int(P)}
        """)
        cur.execute("CREATE UNLOGGED TABLE bench_funding AS SELECT p AS provider_id, "
                    "coalesce(spent.total, 0) + 100000 AS deposit "
                    f"FROM generate_series(1, {int(P)}) p LEFT JOIN "
                    "(SELECT provider_id, sum(price) AS total FROM bench_sale GROUP BY provider_id) spent "
                    "ON spent.provider_id = p")
        step.done("sales staged")
        common.insert_select(cur, LedgerEntry, {
            "id": "f.provider_id", "account": "f.provider_id", "kind": "'deposit'", "amount_cents": "f.deposit",
            "balance_after_cents": "f.deposit", "idempotency_key": "'bench-deposit:' || f.provider_id",
            "memo": "'Opening deposit'", "created_at": "now() - interval '400 days'",
        }, "bench_funding f")
        common.insert_select(cur, LedgerEntry, {
            "id": f"{int(P)} + s.lead_id", "account": "s.provider_id", "kind": "'charge'", "amount_cents": "-s.price",
            "balance_after_cents": "f.deposit - sum(s.price) OVER (PARTITION BY s.provider_id "
                                   "ORDER BY s.assigned_at, s.lead_id)",
            "idempotency_key": "'charge:' || s.lead_id || ':' || s.provider_id", "related_type": "'leads.lead'",
            "related_id": "s.lead_id::text", "created_at": "s.assigned_at",
        }, "bench_sale s JOIN bench_funding f USING (provider_id)")
        common.insert_select(cur, Account, {"provider": "p", "balance_cents": "100000"},
                             "generate_series(1, %s) p", [P])
        common.insert_select(cur, Assignment, {
            "id": "s.lead_id", "lead": "s.lead_id", "provider": "s.provider_id", "level": "s.level_id",
            "subscription": "s.provider_id", "category": "s.category_id", "price_cents": "s.price",
            "status": "CASE WHEN mod(s.lead_id, 10) < 2 THEN 'accepted' WHEN mod(s.lead_id, 10) = 2 THEN 'rejected' "
                      "ELSE 'assigned' END",
            "charge_entry": f"{int(P)} + s.lead_id", "assigned_at": "s.assigned_at",
        }, "bench_sale s")
        step.done("ledger, accounts, assignments")
        common.insert_select(cur, DistributionRun, {
            "lead": "s.lead_id", "trigger": "'approval'", "outcome": "'distributed'", "buyers": "1",
            "started_at": "s.assigned_at", "finished_at": "s.assigned_at", "duration_ms": "4.2",
            "trace": """jsonb_build_object('levels', jsonb_build_array(jsonb_build_object(
                'level', CASE s.level_id WHEN 1 THEN 'exclusive' WHEN 2 THEN 'semi-exclusive' ELSE 'shared' END,
                'price_cents', s.price, 'max_recipients', 1, 'considered', 34, 'eligible', 3,
                'skipped', jsonb_build_object('area', 28, 'balance', 2, 'cap', 1),
                'chosen', jsonb_build_array(s.provider_id),
                'served', jsonb_build_array(jsonb_build_object('provider_id', s.provider_id,
                    'subscription_id', s.provider_id, 'last_served_at', s.assigned_at - interval '2 days')),
                'eligible_providers', jsonb_build_array(s.provider_id, s.provider_id + 100),
                'skipped_providers', jsonb_build_object('balance', jsonb_build_array(1, s.provider_id + 200),
                                                        'cap', jsonb_build_array(s.provider_id + 300)))))""",
        }, f"bench_sale s WHERE s.lead_id <= {PENDING + TRACED}")
        step.done("distribution runs with traces")
        common.insert_select(cur, BadLeadReport, {
            "assignment": "s.lead_id", "provider": "s.provider_id", "reason": "'wrong_contact'",
            "details": "'Bench report'", "status": "CASE WHEN mod(s.lead_id, 2) = 0 THEN 'pending' ELSE 'approved' END",
            "created_at": "s.assigned_at + interval '1 day'",
        }, "bench_sale s WHERE mod(s.lead_id, 23) = 0")
        common.insert_select(cur, AuditLog, {
            "actor_label": "'system'", "action": "'provider.registered'", "object_type": "'providers.provider'",
            "object_id": "p::text", "created_at": "now() - interval '400 days'",
        }, "generate_series(1, %s) p", [P])
        step.done("bad-lead reports, audit entries")
        common.load_finish(cur, (User, Provider, Subscription, Lead, LedgerEntry, Assignment, Category,
                                 CompetitionLevel, DistributionRun, BadLeadReport, AuditLog, ServiceArea), sizes)
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE")
    step.done("vacuum analyze")


# ---- measurement --------------------------------------------------------------------------------------------

def staff_client():
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from hotlead.accounts.models import Role, User

    staff, _ = User.objects.get_or_create(email="bench-staff@hotlead.test",
                                          defaults={"role": Role.STAFF, "is_staff": True, "is_superuser": True})
    device = TOTPDevice.objects.filter(user=staff, confirmed=True).first() or \
        TOTPDevice.objects.create(user=staff, name="bench", confirmed=True)
    client = Client()
    client.force_login(staff)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def measure(runs: int) -> dict[str, list[float]]:
    from hotlead.leads.models import Lead
    from hotlead.providers.models import Provider

    client = staff_client()
    sold = list(Lead.objects.filter(status="distributed").order_by("-created_at", "-id")
                .values_list("pk", flat=True)[:runs])
    # providers that buy (ids from 100 up serve the leads' areas; see load)
    providers = list(Provider.objects.filter(pk__gte=100).order_by("id").values_list("pk", flat=True)[:runs])
    pages = {
        "review queue": lambda i: "/admin/leads/lead/review/",
        "lead list": lambda i: "/admin/leads/lead/",
        "lead page": lambda i: f"/admin/leads/lead/{sold[i % len(sold)]}/change/",
        "provider page": lambda i: f"/admin/providers/provider/{providers[i % len(providers)]}/change/",
    }
    warm = max(3, runs // 10)
    results: dict[str, list[float]] = {name: [] for name in pages}
    cpu: dict[str, list[float]] = {name: [] for name in pages}
    for i in range(runs + warm):  # interleaved: machine load weighs on every page alike
        for name, url in pages.items():
            started, started_cpu = time.perf_counter(), time.process_time()
            response = client.get(url(i))
            elapsed = (time.perf_counter() - started) * 1000
            used = (time.process_time() - started_cpu) * 1000
            assert response.status_code == 200, (name, response.status_code)
            if i >= warm:
                results[name].append(elapsed)
                cpu[name].append(used)
    CPU[id(results)] = cpu
    return results


CPU: dict[int, dict[str, list[float]]] = {}  # the Django process's CPU time per request (no waiting, no SQL server)


def main() -> int:
    args = parse_args()
    sizes = [("large", args.leads), ("baseline", args.baseline_leads)]
    print(f"==> bench console: {args.providers:,} providers; {args.leads:,} leads vs {args.baseline_leads:,} leads")
    common.django_setup(common.url_for(args.database_url, "postgres"), ROOT)
    figures = {}
    for label, leads in sizes:
        db_name = f"{args.db_prefix}_{leads}"
        shape = f"{DATA_SHAPE}:{args.providers}/{leads}"
        must_load = common.database_prepare(args.database_url, db_name, shape, rebuild=args.rebuild)
        use_database(db_name)
        if must_load:
            print(f"loading {db_name} (once; reused by later runs):")
            load(args.providers, leads, shape)
        else:
            print(f"reusing {db_name} (--rebuild to start over)")
        figures[label] = measure(args.runs)
    from django.db import connections

    connections["default"].close()
    load1, load5, _ = os.getloadavg()
    print("(ms; server time = the request through the whole Django stack, wall clock; cpu = this process's CPU "
          "time for it, i.e. without waiting for a CPU or for PostgreSQL)")
    print(f"\n{args.runs} interleaved rounds per size; machine load average {load1:.1f} (1 min), {load5:.1f} (5 min), "
          f"{os.cpu_count()} CPUs (shared)")
    print(f"{'page':<16} {'large p50':>10} {'large p95':>10} {'base p50':>10} {'base p95':>10} {'p95 ratio':>10} "
          f"{'large cpu p50':>14} {'base cpu p50':>13}")
    ok = True
    lines = []
    for page in figures["large"]:
        big, small = figures["large"][page], figures["baseline"][page]
        ratio = common.percentile(big, 95) / max(common.percentile(small, 95), 0.001)
        big_cpu = CPU[id(figures["large"])][page]
        small_cpu = CPU[id(figures["baseline"])][page]
        print(f"{page:<16} {statistics.median(big):10.1f} {common.percentile(big, 95):10.1f} "
              f"{statistics.median(small):10.1f} {common.percentile(small, 95):10.1f} {ratio:9.2f}× "
              f"{statistics.median(big_cpu):14.1f} {statistics.median(small_cpu):13.1f}")
        passed = common.percentile(big, 95) <= P95_TARGET_MS
        ok &= passed
        verdict = "PASS" if passed else "FAIL"
        p95 = common.percentile(big, 95)
        lines.append(f"{verdict}  {page}: p95 {p95:.1f} ms ≤ {P95_TARGET_MS:.0f} ms at {args.leads:,} leads")
    print()
    print("\n".join(lines))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
