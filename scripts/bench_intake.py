#!/usr/bin/env python
"""Benchmark lead intake (issue 15, P3): `scripts/bench intake [options]`.

Starts gunicorn (the production settings, DEBUG=0, PostgreSQL) on its own database and posts leads with the
same number of client processes to two endpoints of that one server:

  real      POST /api/v1/leads — middleware, ninja, the schema, lead_submit (rate limit, category, duplicate
            check, the lead, its history, a hashed code, the e-mail event and its queued job), as submitters hit it
  baseline  POST /bench/bare-intake — a bare view on the same server that validates the same body (pydantic)
            and does one INSERT

and prints requests per second, p50/p99 latency and the ratio real ÷ baseline. Target: ratio ≥ 0.5. Then, in
its own process (no HTTP), the server-side cost of a request to each: CPU ms of Python and of the PostgreSQL
backend, statements and transactions — what a busy machine distorts far less than requests per second.
Each lead comes from its own submitter's address, as a web form's traffic does, passed by a proxy
(X-Forwarded-For, HOTLEAD_PROXY_COUNT=1); `--addresses one` posts every lead from one address instead (one partner
server: every lead counts on one rate-limit row, whose lock each holds until its commit). The per-IP limit is
lifted with HOTLEAD_RATE_LIMITS. Exit 1 on a miss.

    scripts/bench intake                         # 2 clients, 4,000 requests per endpoint in 8 rounds
    scripts/bench intake --clients 4 --requests 8000 --workers 3
"""
from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import multiprocessing
import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.bench_support import common  # noqa: E402 - after the root is on sys.path

RATIO_TARGET = 0.5
REAL = "/api/v1/leads"
BASELINE = "/bench/bare-intake"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/hotlead"),
                        help="a PostgreSQL URL; only its server is used (default: $DATABASE_URL)")
    parser.add_argument("--db-name", default="hotlead_bench_intake", help="the benchmark's own database (dropped)")
    parser.add_argument("--clients", type=int, default=2, help="client processes, the same for both endpoints")
    parser.add_argument("--requests", type=int, default=4000, help="timed requests per endpoint (all clients)")
    parser.add_argument("--warmup", type=int, default=100, help="untimed requests per endpoint first")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--rounds", type=int, default=8,
                        help="the requests of each endpoint in this many rounds, the two endpoints taking turns")
    parser.add_argument("--addresses", choices=("request", "client", "one"), default="request",
                        help="the submitter's address: one per request (a web form), per client process, or one "
                             "for all (a partner server)")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    parser.add_argument("--cost", type=int, default=300, metavar="N",
                        help="also post N leads to each endpoint in this process (Django's test client, no HTTP) and "
                             "print the server's own cost per request: CPU ms of Python and of the PostgreSQL "
                             "backend, statements and transactions — far less sensitive to a busy machine (0: skip)")
    args = parser.parse_args()
    if args.clients < 1 or args.workers < 1 or args.rounds < 1 or args.requests < args.clients * args.rounds:
        parser.error("use at least 1 client, 1 worker, 1 round and as many requests as clients in each round")
    return args


def lead_body(tag: str, n: int) -> bytes:
    return json.dumps({
        "name": f"Bench Submitter {n}", "email": f"bench-{tag}-{n}@example.com", "phone": "+14155550100",
        "postal_code": "94110", "category": "roofing", "description": "Our roof leaks over the kitchen; please quote.",
        "consent": True,
    }).encode()


def address(addresses: str, tag: str, client_no: int, n: int) -> str | None:
    """The submitter's address a proxy passes on (X-Forwarded-For), or None: the client's own (one for all)."""
    if addresses == "one":
        return None
    seed = int.from_bytes(hashlib.blake2b(f"{tag}:{client_no if addresses == 'client' else n}".encode(),
                                          digest_size=3).digest(), "big")
    return f"10.{seed >> 16}.{(seed >> 8) & 255}.{seed & 255}"


def client(port: int, path: str, tag: str, start: int, count: int, addresses: str, barrier, results) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Content-Type": "application/json", "Host": "127.0.0.1"}
    timings, failures = [], 0
    barrier.wait()
    for n in range(start, start + count):
        body = lead_body(tag, n)
        forwarded = address(addresses, tag, start, n)
        began = time.perf_counter()
        conn.request("POST", path, body=body, headers={**headers, "X-Forwarded-For": forwarded} if forwarded
                     else headers)
        response = conn.getresponse()
        response.read()
        timings.append((time.perf_counter() - began) * 1000)
        if response.status != 202:
            failures += 1
    conn.close()
    results.put((timings, failures, time.perf_counter()))


def run(port: int, path: str, tag: str, clients: int, total: int, addresses: str) -> dict:
    barrier = multiprocessing.Barrier(clients + 1)
    results = multiprocessing.Queue()
    share = total // clients
    processes = [multiprocessing.Process(target=client,
                                         args=(port, path, tag, i * share, share, addresses, barrier, results))
                 for i in range(clients)]
    for process in processes:
        process.start()
    barrier.wait()
    began = time.perf_counter()
    outcomes = [results.get() for _ in processes]
    for process in processes:
        process.join()
    wall = max(end for _, _, end in outcomes) - began
    timings = sorted(t for ts, _, _ in outcomes for t in ts)
    return {"n": len(timings), "failures": sum(f for _, f, _ in outcomes), "wall_s": wall,
            "per_s": len(timings) / wall, "timings": timings, **percentiles(timings)}


def percentiles(timings: list[float]) -> dict:
    timings = sorted(timings)
    return {"p50_ms": statistics.median(timings),
            "p99_ms": timings[min(len(timings) - 1, round(0.99 * len(timings)) - 1)]}


def combined(rounds: list[dict]) -> dict:
    """The rounds of one endpoint as one run: requests over the time they took, percentiles over all of them."""
    timings = [t for r in rounds for t in r["timings"]]
    wall = sum(r["wall_s"] for r in rounds)
    return {"n": len(timings), "failures": sum(r["failures"] for r in rounds), "wall_s": wall,
            "per_s": len(timings) / wall, "rounds": [r["per_s"] for r in rounds], **percentiles(timings)}


def forwarded(addresses: str, tag: str, n: int) -> dict:
    return {"HTTP_X_FORWARDED_FOR": ip} if (ip := address(addresses, tag, 0, n)) else {}


def cost_in_process(path: str, tag: str, count: int, addresses: str) -> dict:
    """Post `count` leads through Django's test client; CPU time of this process and of its PostgreSQL backend
    (read from /proc: the server must be on this machine, else 0), statements and transactions per request."""
    from django.db import connection
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")
    for n in range(20):  # warm: the first lead of a process reads the ZIP list and the categories
        client.post(path, lead_body(f"{tag}-warm", n), content_type="application/json",
                    **forwarded(addresses, f"{tag}-warm", n))
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = Path(f"/proc/{cursor.fetchone()[0]}/stat")

    def backend_cpu() -> float:
        if not backend.exists():
            return 0.0
        fields = backend.read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    counted = {"statements": 0, "transactions": 0}

    def counting(execute, sql, params, many, context):
        counted["statements"] += 1
        counted["transactions"] += not connection.in_atomic_block  # autocommit: a transaction of its own
        return execute(sql, params, many, context)

    commit = connection.commit

    def commit_counted():
        counted["transactions"] += 1
        commit()

    connection.commit = commit_counted
    failures, backend_before, python_before = 0, backend_cpu(), time.process_time()
    try:
        with connection.execute_wrapper(counting):
            for n in range(count):
                response = client.post(path, lead_body(tag, n), content_type="application/json",
                                       **forwarded(addresses, tag, n))
                failures += response.status_code != 202
    finally:
        del connection.commit
    if failures:
        raise SystemExit(f"{failures} in-process requests to {path} were not answered 202")
    return {"python_cpu_ms": (time.process_time() - python_before) * 1000 / count,
            "postgres_cpu_ms": (backend_cpu() - backend_before) * 1000 / count,
            "statements": counted["statements"] / count, "transactions": counted["transactions"] / count}


def wait_for(port: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/health/live", headers={"Host": "127.0.0.1"})
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not answer /health/live within a minute")


def main() -> int:
    args = parse_args()
    metrics_dir = tempfile.mkdtemp(prefix="hotlead-bench-metrics-")
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "HOTLEAD_ALLOW_DEV_SECRET")},
        "DATABASE_URL": common.url_for(args.database_url, args.db_name),
        "DJANGO_SETTINGS_MODULE": "scripts.bench_support.intake_settings",
        "PYTHONPATH": str(ROOT),
        "DEBUG": "0", "SECRET_KEY": secrets.token_urlsafe(48), "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0", "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "PROMETHEUS_MULTIPROC_DIR": metrics_dir, "LOG_LEVEL": "WARNING", "DB_CONN_MAX_AGE": "600",
        "HOTLEAD_RATE_LIMITS": "lead_submit_ip=100000000/3600",  # lifted: --addresses one or client reuse them
        "HOTLEAD_PROXY_COUNT": "1",  # the submitter's address from X-Forwarded-For, as behind the production proxy
    }
    os.environ.clear()
    os.environ.update(env)
    print(f"Intake benchmark: gunicorn with {args.workers} worker(s), {args.clients} client(s), "
          f"{args.requests} requests per endpoint in {args.rounds} rounds, submitter addresses: {args.addresses}, "
          f"database {args.db_name}")
    common.database_recreate(args.database_url, args.db_name)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, connections

    call_command("migrate", verbosity=0)
    from hotlead.leads.models import Category

    Category.objects.create(slug="roofing", name="Roofing")
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE bench_bare_lead (id bigserial PRIMARY KEY, name varchar(200), "
                       "email varchar(254), phone varchar(20), postal_code varchar(12), category varchar(64), "
                       "description text, created_at timestamptz NOT NULL DEFAULT now())")
    connections.close_all()

    port = common.free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "python:hotlead.gunicorn_conf", "hotlead.wsgi:application",
         "--bind", f"127.0.0.1:{port}", "--workers", str(args.workers), "--log-level", "warning"],
        cwd=ROOT, env=env, start_new_session=True)
    try:
        wait_for(port)
        run(port, BASELINE, "warm-b", args.clients, args.warmup, args.addresses)
        warm_real = run(port, REAL, "warm-r", args.clients, args.warmup, args.addresses)
        # In rounds, the order swapped each round: a shared machine's speed drifts from one minute to the next
        # (docs/performance.md), and one long run of each would give the drift to whichever ran in the faster minute.
        rounds: dict[str, list[dict]] = {"base": [], "real": []}
        share = args.requests // args.rounds
        for n in range(args.rounds):
            order = (("base", BASELINE), ("real", REAL)) if n % 2 == 0 else (("real", REAL), ("base", BASELINE))
            for tag, path in order:
                count = share if n < args.rounds - 1 else args.requests - share * (args.rounds - 1)
                rounds[tag].append(run(port, path, f"{tag}{n}", args.clients, count, args.addresses))
        baseline, real = combined(rounds["base"]), combined(rounds["real"])
        stored = Category.objects.get(slug="roofing").leads.count()
        costs = [(name, cost_in_process(path, tag, args.cost, args.addresses)) for name, path, tag in (
            ("baseline (validate + 1 INSERT)", BASELINE, "cost-b"), ("real POST /api/v1/leads", REAL, "cost-r"),
        )] if args.cost else []
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        connections.close_all()
        if not args.keep:
            common.database_drop(args.database_url, args.db_name)

    ratio = real["per_s"] / baseline["per_s"]
    print()
    for name, result in (("baseline (validate + 1 INSERT)", baseline), ("real POST /api/v1/leads", real)):
        print(f"{name:32} {result['per_s']:7.0f} req/s · p50 {result['p50_ms']:6.2f} ms · "
              f"p99 {result['p99_ms']:6.2f} ms · {result['n']} requests, {result['failures']} not 202")
    print(f"{'ratio real ÷ baseline':32} {ratio:7.3f}   (by round: "
          + ", ".join(f"{r / b:.3f}" for r, b in zip(real["rounds"], baseline["rounds"], strict=True)) + ")")
    print(f"{'leads stored (real)':32} {stored}")
    if costs:
        print(f"\nin this process, {args.cost} requests each (server side only, per request):")
        for name, cost in costs:
            print(f"{name:32} {cost['python_cpu_ms']:6.2f} ms Python CPU · {cost['postgres_cpu_ms']:5.2f} ms "
                  f"PostgreSQL CPU · {cost['statements']:4.1f} statements · {cost['transactions']:4.2f} transactions")
    checks = [
        ("every request answered 202", real["failures"] == 0 and baseline["failures"] == 0),
        ("every real request stored a lead", stored == real["n"] + warm_real["n"]),
        (f"real ≥ {RATIO_TARGET} × baseline req/s", ratio >= RATIO_TARGET),
    ]
    return common.checks_report(checks)


if __name__ == "__main__":
    sys.exit(main())
