#!/usr/bin/env python
"""Benchmark the distribution engine (issue 6): `scripts/bench distribution [options]`.

1. Creates its own PostgreSQL database (default `hotlead_bench` on the server of DATABASE_URL; dropped
   at the end unless --keep), migrates it, and seeds 1,000 providers with three levels (exclusive,
   semi-exclusive, shared), categories, service areas (exact codes and prefixes), filters, caps,
   schedules, time zones and funded balances (deposits in the ledger).
2. Distributes 2,000 approved leads with N client processes (default 2), each running the real job
   (`lead_distribute_job`: one transaction per lead — on PostgreSQL one call of the sale function — and
   the follow-up job queued after commit in django-q2's broker: Redis, as in production, when it answers
   at $BENCH_REDIS_URL, else the database), and prints the median and p99 time per lead and the leads
   per second; checks the books afterwards (balances = ledger sums, buyers ≤ max, one charge per
   assignment).
3. Measures, in the same run, pgbench's simple-update transactions per second (`pgbench -i`, then
   `pgbench -N`) on a scratch database at the same client count, and prints the ratio.
4. Starts a real django-q2 cluster (`manage.py qcluster`) and measures approval (`lead_approve`) →
   the lead visible in the buyer's inbox, for 50 leads: p50 and p95.

Targets: median ≤ 25 ms per lead; leads/s ≥ 0.25 × pgbench tps; approval → inbox p50 ≤ 500 ms.
Exit 1 if a target is missed.

    scripts/bench distribution                       # the defaults above
    scripts/bench distribution --clients 1           # one client (and pgbench with one)
    scripts/bench distribution --leads 500 --latency-leads 20 --keep    # quicker, keep the database
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.bench_support import common  # noqa: E402 - after the root is on sys.path
from scripts.bench_support.distribution_market import connection_cursor, seed  # noqa: E402

MEDIAN_TARGET_MS = 25.0
RATIO_TARGET = 0.25
LATENCY_P50_TARGET_MS = 500.0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/hotlead"),
                        help="a PostgreSQL URL; only its server is used (default: $DATABASE_URL)")
    parser.add_argument("--db-name", default="hotlead_bench", help="the benchmark's own database (dropped at the end)")
    parser.add_argument("--providers", type=int, default=1000)
    parser.add_argument("--leads", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=2, help="client processes (and pgbench clients)")
    parser.add_argument("--pgbench-seconds", type=int, default=10)
    parser.add_argument("--latency-leads", type=int, default=50, help="leads approved with a worker running")
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--broker", choices=["redis", "orm"], default=None,
                        help="django-q2's broker: redis (production's, default when Redis answers at "
                             "$BENCH_REDIS_URL, redis://127.0.0.1:6379/15) or orm (the database)")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark databases")
    args = parser.parse_args()
    if args.providers < 10 or args.leads < 1 or args.clients < 1:
        parser.error("use at least 10 providers, 1 lead and 1 client")
    return args


def redis_url_if_answering(args) -> str | None:
    url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
    if args.broker == "orm":
        return None
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except Exception as exc:
        if args.broker == "redis":
            raise SystemExit(f"--broker redis: Redis does not answer at {url}: {exc}") from exc
        return None
    return url


def bench_environment(args, metrics_dir: str) -> dict[str, str]:
    """The environment of this process, of the client processes and of the job worker."""
    redis_url = redis_url_if_answering(args)
    args.broker = "redis" if redis_url else "orm"
    return {
        **{k: v for k, v in os.environ.items() if k != "REDIS_URL"},
        **({"REDIS_URL": redis_url} if redis_url else {}),
        "DATABASE_URL": common.url_for(args.database_url, args.db_name),
        "DJANGO_SETTINGS_MODULE": "hotlead.settings",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(48),  # DEBUG=0 refuses the development key (issue 15)
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "PROMETHEUS_MULTIPROC_DIR": metrics_dir,
        "LOG_LEVEL": "WARNING",
        "DB_CONN_MAX_AGE": "600",
    }


# --- the throughput phase --------------------------------------------------------------------------------

def client(lead_ids: list[int], barrier, results) -> None:
    import django

    django.setup()
    from django.db import connections

    from hotlead.distribution.tasks import lead_distribute_job

    # a warm connection, like a worker's; the server times the sale function's calls (superusers may ask)
    with connection_cursor() as cursor:
        cursor.execute("SELECT 1")
        try:
            cursor.execute("SET track_functions = 'pl'")
        except Exception:  # noqa: BLE001 - not a superuser: the figure is simply not printed
            pass
    barrier.wait()
    started = time.monotonic()
    timings = []
    for lead_id in lead_ids:
        t0 = time.perf_counter()
        lead_distribute_job(lead_id, trigger="approval")
        timings.append((time.perf_counter() - t0) * 1000)
    ended = time.monotonic()
    connections.close_all()  # the backend's function statistics are written when it exits
    results.put((started, ended, timings))


def throughput(args, lead_ids: list[int]) -> dict:
    from django.db import connections

    from hotlead.distribution.tasks import lead_distribute_job

    for lead_id in lead_ids[:20]:  # warm up: plans, caches (not measured)
        lead_distribute_job(lead_id, trigger="approval")
    measured = lead_ids[20:]
    connections.close_all()  # never share a connection with the forked clients
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(args.clients), context.Queue()
    processes = [context.Process(target=client, args=(measured[i::args.clients], barrier, results))
                 for i in range(args.clients)]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=3600) for _ in processes]
    for process in processes:
        process.join()
    wall = max(end for _, end, _ in outcomes) - min(start for start, _, _ in outcomes)
    timings = sorted(t for _, _, ts in outcomes for t in ts)
    return {
        "leads": len(timings), "wall_s": wall, "leads_per_s": len(timings) / wall,
        "median_ms": statistics.median(timings), "p99_ms": percentile(timings, 99),
        "mean_ms": statistics.fmean(timings),
    }


def sale_function_ms() -> float | None:
    """Server time per call of the sale function in the client processes (pg_stat_user_functions), if recorded."""
    for _ in range(50):  # a backend's statistics reach the shared view within a moment of its exit
        with connection_cursor() as cursor:
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute("SELECT sum(calls), sum(total_time) FROM pg_stat_user_functions "
                           "WHERE funcname LIKE 'hl\\_sale\\_sell\\_%'")
            calls, total = cursor.fetchone()
        if calls:
            return float(total) / float(calls)
        time.sleep(0.1)
    return None


def percentile(sorted_samples: list[float], p: float) -> float:
    index = min(len(sorted_samples) - 1, max(0, round(p / 100 * len(sorted_samples)) - 1))
    return sorted_samples[index]


def books_check() -> dict:
    """The run left the books right: balances = ledger sums (never negative), buyers ≤ max, one charge per sale."""
    from django.db.models import Count

    from hotlead.distribution.models import Assignment, DistributionRun
    from hotlead.leads.models import Lead

    with connection_cursor() as cursor:
        cursor.execute("""
            SELECT count(*) FROM billing_account a
            LEFT JOIN (SELECT account_id, sum(amount_cents) AS total FROM billing_ledgerentry GROUP BY account_id) l
              ON l.account_id = a.provider_id
            WHERE a.balance_cents <> COALESCE(l.total, 0) OR a.balance_cents < 0""")
        unbalanced = cursor.fetchone()[0]
        cursor.execute("""
            SELECT count(*) FROM (
              SELECT x.lead_id FROM distribution_assignment x JOIN levels_competitionlevel lv ON lv.id = x.level_id
              GROUP BY x.lead_id, lv.max_recipients HAVING count(*) > lv.max_recipients) over_sold""")
        oversold = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM billing_ledgerentry WHERE kind = 'charge'")
        charges = cursor.fetchone()[0]
    assignments = Assignment.objects.count()
    statuses = dict(Lead.objects.values_list("status").annotate(n=Count("id")))
    by_level = dict(Assignment.objects.values_list("level__slug").annotate(n=Count("id")))
    skipped: dict[str, int] = {}
    for trace in DistributionRun.objects.values_list("trace", flat=True).iterator():
        for level in trace.get("levels", []):
            for reason, n in level.get("skipped", {}).items():
                skipped[reason] = skipped.get(reason, 0) + n
    return {"unbalanced_accounts": unbalanced, "oversold_leads": oversold, "charges": charges,
            "assignments": assignments, "statuses": statuses, "by_level": by_level, "skipped": skipped}


# --- pgbench ------------------------------------------------------------------------------------------------

def pgbench_tps(args) -> float | None:
    binary = shutil.which("pgbench")
    if binary is None:
        print("  pgbench is not installed (Debian: apt-get install postgresql-contrib); no ratio.")
        return None
    scratch = f"{args.db_name}_pgbench"
    common.database_recreate(args.database_url, scratch)
    parts = urlsplit(args.database_url)
    env = {**os.environ, "PGPASSWORD": parts.password or os.environ.get("PGPASSWORD", "")}
    conn = ["-h", parts.hostname or "127.0.0.1", "-p", str(parts.port or 5432), "-U", parts.username or "postgres"]
    try:
        subprocess.run([binary, *conn, "-i", "-q", scratch], check=True, env=env, capture_output=True)
        out = subprocess.run([binary, *conn, "-N", "-c", str(args.clients), "-j", str(args.clients),
                              "-T", str(args.pgbench_seconds), scratch],
                             check=True, env=env, capture_output=True, text=True).stdout
    finally:
        if not args.keep:
            common.database_drop(args.database_url, scratch)
    match = re.search(r"tps = ([0-9.]+)", out)
    latency = re.search(r"latency average = ([0-9.]+) ms", out)
    args.pgbench_latency_ms = float(latency.group(1)) if latency else None
    return float(match.group(1)) if match else None


# --- approval → inbox with a real worker ---------------------------------------------------------------------

def approval_latency(args, env: dict[str, str]) -> dict:
    from django.db import connections
    from django_q.models import OrmQ

    from hotlead.accounts.models import Role, User
    from hotlead.distribution.models import Assignment
    from hotlead.leads.enums import LeadStatus
    from hotlead.leads.models import Category, Lead
    from hotlead.leads.services.lifecycle import lead_approve

    # the throughput phase queued its follow-up e-mail jobs: they are not part of this measurement
    OrmQ.objects.all().delete()
    if args.broker == "redis":
        from django_q.brokers import get_broker

        get_broker().purge_queue()
    staff = User.objects.create(email="staff@bench.hotlead.test", role=Role.STAFF, is_staff=True)
    rng = random.Random(args.seed + 1)
    # leads that will sell at once: the region and category of a funded exclusive buyer with no cap or schedule
    with connection_cursor() as cursor:
        cursor.execute("""
            SELECT c.slug, a.value FROM levels_subscription s
            JOIN providers_provider_categories pc ON pc.provider_id = s.provider_id
            JOIN leads_category c ON c.id = pc.category_id
            JOIN providers_servicearea a ON a.provider_id = s.provider_id AND a.kind = 'prefix'
            JOIN billing_account b ON b.provider_id = s.provider_id
            WHERE s.status = 'active' AND s.filters = '[]'::jsonb AND s.schedule IS NULL AND s.daily_cap IS NULL
              AND s.monthly_budget_cents IS NULL AND b.balance_cents >= 200000""")
        markets = cursor.fetchall()
    leads = [
        Lead.objects.create(name="Latency Submitter", email=f"latency{i}@bench.example", phone="+14155550122",
                            reference=f"HL-L{i:07d}",
                            postal_code=f"{region}{rng.randrange(100):02d}",
                            category=Category.objects.get(slug=slug), description="Latency lead.",
                            consent_text_version="2026-01", consent_at=staff.date_joined,
                            status=LeadStatus.PENDING_REVIEW)
        for i, (slug, region) in enumerate(rng.choices(markets, k=args.latency_leads))]
    connections.close_all()
    worker = subprocess.Popen([sys.executable, str(ROOT / "manage.py"), "qcluster"], env=env, cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    samples = []
    try:
        time.sleep(3)  # the cluster's processes start
        for lead in leads:
            t0 = time.perf_counter()
            lead_approve(lead_id=lead.pk, actor=staff)
            while not Assignment.objects.filter(lead_id=lead.pk).exists():
                if time.perf_counter() - t0 > 30:
                    raise RuntimeError(f"lead {lead.pk} was not sold within 30 s")
                time.sleep(0.002)
            samples.append((time.perf_counter() - t0) * 1000)
    finally:
        worker.terminate()  # the cluster's leader stops its processes (a TERM to all of them at once hangs)
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=10)
    samples.sort()
    return {"n": len(samples), "p50_ms": statistics.median(samples), "p95_ms": percentile(samples, 95)}


def main() -> int:
    args = parse_args()
    metrics_dir = tempfile.mkdtemp(prefix="hotlead-bench-metrics-")
    env = bench_environment(args, metrics_dir)
    os.environ.clear()
    os.environ.update(env)
    print(f"Distribution benchmark: {args.providers} providers, {args.leads} leads, {args.clients} client(s), "
          f"database {args.db_name}, job broker {args.broker}")
    step = common.Step()
    common.database_recreate(args.database_url, args.db_name)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    step.done("migrated")
    lead_ids = seed(args)
    step.done("seeded")
    try:
        result = throughput(args, lead_ids)
        step.done("distributed")
        result["function_ms"] = sale_function_ms()
        books = books_check()
        tps = pgbench_tps(args)
        step.done("pgbench")
        latency = approval_latency(args, env) if args.latency_leads else None
        step.done("approval → inbox with a worker")
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            common.database_drop(args.database_url, args.db_name)
        shutil.rmtree(metrics_dir, ignore_errors=True)

    ratio = result["leads_per_s"] / tps if tps else None
    print()
    print(f"leads distributed     {result['leads']} with {args.clients} client(s) in {result['wall_s']:.2f} s")
    print(f"time per lead         median {result['median_ms']:.2f} ms · p99 {result['p99_ms']:.2f} ms · "
          f"mean {result['mean_ms']:.2f} ms")
    print(f"leads per second      {result['leads_per_s']:.0f}")
    if result.get("function_ms"):
        print(f"in the database       {result['function_ms']:.2f} ms per lead inside the sale function "
              f"(server time, pg_stat_user_functions)")
    if tps:
        print(f"pgbench -N tps        {tps:.0f} ({args.clients} client(s), {args.pgbench_seconds} s)")
        if getattr(args, "pgbench_latency_ms", None):
            print(f"pgbench -N latency    {args.pgbench_latency_ms:.3f} ms per transaction")
        print(f"ratio                 {ratio:.3f} (leads/s ÷ pgbench tps)")
    if latency:
        print(f"approval → inbox      p50 {latency['p50_ms']:.0f} ms · p95 {latency['p95_ms']:.0f} ms "
              f"({latency['n']} leads, one django-q2 cluster)")
    print(f"outcomes              {books['statuses']} · sold by level {books['by_level']}")
    print(f"skipped (all runs)    {dict(sorted(books['skipped'].items()))}")
    print(f"books                 {books['assignments']} assignments, {books['charges']} charges, "
          f"{books['unbalanced_accounts']} unbalanced accounts, {books['oversold_leads']} oversold leads")
    checks = [
        ("median ≤ 25 ms per lead", result["median_ms"] <= MEDIAN_TARGET_MS),
        ("leads/s ≥ 0.25 × pgbench tps", ratio is not None and ratio >= RATIO_TARGET),
        ("approval → inbox p50 ≤ 500 ms", latency is None or latency["p50_ms"] <= LATENCY_P50_TARGET_MS),
        ("books balance", books["unbalanced_accounts"] == 0 and books["oversold_leads"] == 0
         and books["charges"] == books["assignments"]),
    ]
    return common.checks_report(checks)


if __name__ == "__main__":
    sys.exit(main())
