#!/usr/bin/env python
"""Benchmark the what-if simulator (issue 19): `scripts/bench simulate [options]`.

1. Creates its own PostgreSQL database (default `hotlead_bench_sim`; dropped at the end unless --keep) and
   migrates it (which installs the sale function).
2. The engine's own time per lead, as the baseline: a committed synthetic market of --providers providers
   (the simulator's own generator) and --engine-leads approved leads, each distributed by
   `lead_distribute` in its own transaction (commit, follow-up job queued in the broker) at its arrival time.
3. The simulator: `simulate_synthetic(providers=--providers, leads=--leads)` — a new market of the same shape,
   every lead offered twice (baseline and an "every level sells to one buyer" scenario) through the same engine
   inside one rolled-back transaction. Prints the time per simulated lead (the engine calls as the simulator
   makes them, and all-in with building the market, reading results back and the report) and the ratio.

Target: simulated time per lead ≤ 2 × the engine's own time per lead (both means, same run). Exit 1 on a miss.

    scripts/bench simulate                               # 1,000 providers, 10,000 simulated leads
    scripts/bench simulate --leads 2000 --engine-leads 500 --keep
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

RATIO_TARGET = 2.0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL",
                                                                 "postgres://postgres@127.0.0.1:5432/hotlead"),
                        help="a PostgreSQL URL; only its server is used (default: $DATABASE_URL)")
    parser.add_argument("--db-name", default="hotlead_bench_sim")
    parser.add_argument("--providers", type=int, default=1000)
    parser.add_argument("--leads", type=int, default=10_000, help="leads in the simulated market")
    parser.add_argument("--engine-leads", type=int, default=1000, help="leads the engine sells for real first")
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--seed", type=int, default=19)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    return parser.parse_args()


def engine_baseline(args) -> dict:
    """The engine as it runs for real: a committed market, one transaction per lead."""
    from django.db import connection, transaction

    from hotlead.distribution.services.engine import lead_distribute
    from hotlead.simulator.market import MarketSpec, market_build

    with transaction.atomic():
        market = market_build(MarketSpec(providers=args.providers, leads=args.engine_leads + 20,
                                         seed=args.seed + 1, days=args.days, tag="bench"))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    pairs = list(zip(market.lead_ids, market.lead_times, strict=True))
    for lead_id, at in pairs[:20]:  # warm up: plans, caches (not measured)
        lead_distribute(lead_id=lead_id, trigger="approval", now=at)
    timings = []
    for lead_id, at in pairs[20:]:
        started = time.perf_counter()
        lead_distribute(lead_id=lead_id, trigger="approval", now=at)
        timings.append((time.perf_counter() - started) * 1000)
    return {"leads": len(timings), "mean_ms": statistics.fmean(timings), "median_ms": statistics.median(timings)}


def main() -> int:
    args = parse_args()
    os.environ.update({
        "DATABASE_URL": common.url_for(args.database_url, args.db_name), "DJANGO_SETTINGS_MODULE": "hotlead.settings",
        "DEBUG": "0", "HOTLEAD_ALLOW_DEV_SECRET": "1", "LOG_LEVEL": "WARNING",
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    })
    os.environ.pop("REDIS_URL", None)
    print(f"Simulator benchmark: {args.providers} providers, {args.leads} simulated leads (×2 sides), "
          f"engine baseline on {args.engine_leads} leads, database {args.db_name}", flush=True)
    common.database_recreate(args.database_url, args.db_name)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    try:
        call_command("migrate", verbosity=0)
        from hotlead.simulator.services.simulate import simulate_synthetic

        started = time.monotonic()
        engine = engine_baseline(args)
        print(f"  engine baseline done ({time.monotonic() - started:.1f} s)", flush=True)
        scenario = {"levels": {slug: {"max_recipients": 1} for slug in ("exclusive", "semi-exclusive", "shared")}}
        result = simulate_synthetic(providers=args.providers, leads=args.leads, seed=args.seed, days=args.days,
                                    scenario=scenario)
        print(f"  simulation done ({result.elapsed_s:.1f} s)", flush=True)
    finally:
        connections.close_all()
        if not args.keep:
            common.database_drop(args.database_url, args.db_name)

    sim_ms = result.lead_seconds * 1000 / result.lead_runs
    all_in_ms = result.elapsed_s * 1000 / result.lead_runs
    ratio = sim_ms / engine["mean_ms"]
    base, scen = result.report["baseline"], result.report["scenario"]
    print()
    print(f"engine, per lead          mean {engine['mean_ms']:.2f} ms · median {engine['median_ms']:.2f} ms "
          f"({engine['leads']} leads, own transaction each)")
    print(f"simulator, per lead       {sim_ms:.2f} ms in the engine calls · {all_in_ms:.2f} ms all-in "
          f"({result.lead_runs} runs = {args.leads} leads × 2 sides, {result.elapsed_s:.1f} s)")
    tenth = max(1, len(result.lead_ms) // 20)  # a tenth of one side
    first, last = statistics.fmean(result.lead_ms[:tenth]), statistics.fmean(result.lead_ms[-tenth:])
    print(f"simulator, drift          first {tenth} runs {first:.2f} ms · last {tenth} runs {last:.2f} ms "
          "(a cost that grew with the leads already simulated would show here)")
    print(f"ratio                     {ratio:.2f} (simulated ÷ engine) · all-in {all_in_ms / engine['mean_ms']:.2f}")
    print(f"baseline                  sold {base['sold']:,}/{base['leads']:,} · {base['assignments']:,} assignments "
          f"· revenue {base['revenue_cents']:,} cents · gini {base['gini']}")
    print(f"scenario (1 buyer)        sold {scen['sold']:,}/{scen['leads']:,} · {scen['assignments']:,} assignments "
          f"· revenue {scen['revenue_cents']:,} cents · gini {scen['gini']}")
    checks = [
        ("simulated lead ≤ 2 × the engine's own per-lead time", ratio <= RATIO_TARGET),
        ("every simulated lead ran", base["leads"] == scen["leads"] == args.leads),
        ("one buyer per sold lead in the scenario", scen["assignments"] == scen["sold"]),
    ]
    return common.checks_report(checks)


if __name__ == "__main__":
    sys.exit(main())
