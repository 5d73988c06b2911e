#!/usr/bin/env python
"""Multi-node topology on one machine (issue 17): `scripts/bench cluster [options]`.

1. Creates its own PostgreSQL database (default `hotlead_bench_cluster`, dropped at the end unless --keep),
   migrates it, seeds providers, levels and subscriptions like `scripts/bench distribution` (set-based
   bulk inserts) and tops every buyer up so money is not what leaves leads unsold.
2. Baseline: ONE gunicorn server and ONE `qcluster` with a single worker process; approves --leads leads
   through the server's API (`POST /api/v1/admin/leads/{id}/approve`, a staff token with MFA) and waits
   until every lead is sold or unsold.
3. The cluster: TWO gunicorn servers and TWO `qcluster` processes (Q_WORKERS each) on the same PostgreSQL
   and Redis (the broker and the cache; the database broker when Redis does not answer); approves another
   --leads leads through both servers' APIs (alternately), and SIGKILLs one worker's whole process group
   --kills times during the run (restarting it a second later, as a supervisor would).
4. Prints, for both runs: leads sold, unsold, lost (still approved at the deadline), double charges,
   unbalanced accounts, time to drain, throughput, and approval → sold/unsold latency (p50, p95, max).

Targets: lost 0, double charges 0, unbalanced accounts 0, drained within --drain-deadline, and every lead
sold or unsold within 150 s of its approval (a crash costs at most the recovery bound, docs/operations.md).
Exit 1 if a target is missed. The production settings run unchanged (timeout 60 s, retry 90 s, recovery
sweep twice a minute for leads approved more than 60 s ago).

    scripts/bench cluster                      # 1,000 leads per run, 3 kills
    scripts/bench cluster --leads 300 --kills 2 --keep
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from bench_distribution import books_check, percentile  # noqa: E402

from scripts.bench_support import common  # noqa: E402 - after the root is on sys.path

MAX_WAIT_TARGET_S = 150.0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/hotlead"))
    parser.add_argument("--db-name", default="hotlead_bench_cluster")
    parser.add_argument("--providers", type=int, default=300)
    parser.add_argument("--leads", type=int, default=1000, help="leads approved in each run")
    parser.add_argument("--workers", type=int, default=2, help="Q_WORKERS of each qcluster in the cluster run")
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--api-clients", type=int, default=6, help="concurrent reviewers calling the API")
    parser.add_argument("--drain-deadline", type=int, default=300, help="seconds after the last approval")
    parser.add_argument("--broker", choices=["redis", "orm"], default=None)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument("--keep", action="store_true")
    return parser.parse_args()


def redis_url(args) -> str | None:
    url = os.environ.get("BENCH_CLUSTER_REDIS_URL", "redis://127.0.0.1:6379/13")
    if args.broker == "orm":
        return None
    try:
        import redis

        client = redis.Redis.from_url(url, socket_connect_timeout=2)
        client.ping()
        client.flushdb()  # this benchmark's own database number: stale jobs of an earlier run must not run
    except Exception as exc:
        if args.broker == "redis":
            raise SystemExit(f"--broker redis: Redis does not answer at {url}: {exc}") from exc
        return None
    return url


# --- processes ------------------------------------------------------------------------------------------

class Proc:
    """A server or a worker in its own process group (a SIGKILL takes its children with it)."""

    def __init__(self, name: str, argv: list[str], env: dict, log_dir: Path):
        self.name, self.argv, self.env, self.log = name, argv, env, log_dir / f"{name}.log"
        self.popen: subprocess.Popen | None = None

    def start(self) -> None:
        self.popen = subprocess.Popen(self.argv, cwd=ROOT, env=self.env, stdout=self.log.open("ab"),
                                      stderr=subprocess.STDOUT, start_new_session=True)

    def kill(self) -> None:
        if self.popen is None:
            return
        try:
            os.killpg(self.popen.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.popen.wait(timeout=15)

    def stop(self) -> None:
        if self.popen is None or self.popen.poll() is not None:
            self.kill()
            return
        self.popen.terminate()  # gunicorn's arbiter and the qcluster leader stop their own children
        try:
            self.popen.wait(timeout=20)
        except subprocess.TimeoutExpired:
            pass
        self.kill()


def gunicorn(name: str, port: int, env: dict, log_dir: Path) -> Proc:
    return Proc(name, [str(ROOT / ".venv/bin/gunicorn"), "hotlead.wsgi:application",
                       "-c", "python:hotlead.gunicorn_conf", "--bind", f"127.0.0.1:{port}",
                       "--workers", "2", "--threads", "4", "--timeout", "60", "--no-control-socket"],
                env, log_dir)


def qcluster(name: str, workers: int, env: dict, log_dir: Path) -> Proc:
    return Proc(name, [sys.executable, "manage.py", "qcluster"], {**env, "Q_WORKERS": str(workers)}, log_dir)


def wait_http(port: int, deadline: float) -> None:
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/live", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"the server on port {port} did not start")
        time.sleep(0.2)


# --- data ------------------------------------------------------------------------------------------------

def seed(args) -> tuple[list[int], str]:
    """Providers, levels, subscriptions (bench distribution's seed), every buyer topped up; leads in review."""
    from types import SimpleNamespace

    import bench_distribution
    from django.db import connection

    from hotlead.accounts.models import Role, User
    from hotlead.accounts.tokens import access_token_encode
    from hotlead.billing.services.ledger import deposit_post
    from hotlead.providers.models import Provider

    lead_ids = bench_distribution.seed(SimpleNamespace(providers=args.providers, leads=2 * args.leads - 20,
                                                       seed=args.seed))
    for provider_id in Provider.objects.values_list("pk", flat=True):
        deposit_post(provider_id=provider_id, amount_cents=50_000_000, key=f"bench-topup:{provider_id}")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE levels_subscription SET status = 'active' WHERE status = 'inactive_funds'")
        cursor.execute("UPDATE leads_lead SET status = 'pending_review', approved_at = NULL, "
                       "status_changed_at = NULL WHERE id = ANY(%s)", [lead_ids])
        cursor.execute("ANALYZE")
    staff = User.objects.create(email="staff@bench.hotlead.test", role=Role.STAFF, is_staff=True)
    token, _ = access_token_encode(user=staff, mfa=True)
    return lead_ids, token


def approve_all(leads: list[tuple[int, str]], ports: list[int], token: str, clients: int) -> tuple[float, int]:
    """POST approve for every lead, alternating between the servers; return (seconds, failures)."""
    failures = []

    def approve(index_and_lead):
        index, (_, public_id) = index_and_lead
        port = ports[index % len(ports)]
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/v1/admin/leads/{public_id}/approve", data=b"{}", method="POST",
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        for attempt in range(3):  # a reviewer clicks again when the page errs
            try:
                with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                    json.loads(response.read())
                    return
            except Exception as exc:  # noqa: BLE001
                if attempt == 2:
                    failures.append(repr(exc))
                time.sleep(0.2)

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        list(pool.map(approve, enumerate(leads)))
    return time.monotonic() - started, len(failures)


def job_counts(metrics_dir: str) -> dict[str, float]:
    """From every process's metrics files: distribution jobs run, and leads re-queued by the recovery sweep."""
    from prometheus_client import CollectorRegistry, multiprocess

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=metrics_dir)
    counts = {"distribution_jobs": 0.0, "recovered": 0.0}
    for family in registry.collect():
        for sample in family.samples:
            if (sample.name == "hotlead_jobs_total" and sample.labels.get("event") == "completed"
                    and sample.labels.get("task") == "lead_distribute_job"):
                counts["distribution_jobs"] += sample.value
            elif sample.name == "hotlead_leads_recovered_total":
                counts["recovered"] += sample.value
    return counts


def settled_count(ids: list[int]) -> int:
    from hotlead.leads.models import Lead

    return Lead.objects.filter(pk__in=ids, status__in=["distributed", "unsold"]).count()


def outcome(ids: list[int], started_wall: float) -> dict:
    """What happened to these leads (the books are checked over the whole database afterwards)."""
    from django.db import connection
    from django.db.models import Count

    from hotlead.notifications.models import EmailEvent

    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT l.id, l.status, EXTRACT(EPOCH FROM l.approved_at),
                   EXTRACT(EPOCH FROM (SELECT min(r.finished_at) FROM distribution_distributionrun r
                                       WHERE r.lead_id = l.id AND r.outcome IN ('distributed', 'unsold')))
            FROM leads_lead l WHERE l.id = ANY(%s)""", [ids])
        rows = cursor.fetchall()
        cursor.execute("""
            SELECT (SELECT count(*) FROM billing_ledgerentry e JOIN distribution_assignment a
                      ON e.idempotency_key = 'charge:' || a.lead_id || ':' || a.provider_id
                    WHERE a.lead_id = ANY(%s)) AS charged,
                   (SELECT count(*) FROM distribution_assignment WHERE lead_id = ANY(%s)) AS sold_to,
                   (SELECT count(*) FROM billing_ledgerentry e WHERE e.kind = 'charge'
                      AND e.idempotency_key LIKE 'charge:%%' AND split_part(e.idempotency_key, ':', 2)::bigint = ANY(%s)
                   ) AS charges,
                   (SELECT count(*) FROM (SELECT lead_id FROM distribution_distributionrun
                      WHERE lead_id = ANY(%s) AND outcome = 'distributed' GROUP BY lead_id HAVING count(*) > 1) d
                   ) AS sold_twice""", [ids, ids, ids, ids])
        charged, sold_to, charges, sold_twice = cursor.fetchone()
    statuses: dict[str, int] = {}
    waits, last_settled = [], started_wall
    for _, status, approved, settled in rows:
        statuses[status] = statuses.get(status, 0) + 1
        if approved is not None and settled is not None and status in ("distributed", "unsold"):
            waits.append(float(settled) - float(approved))
            last_settled = max(last_settled, float(settled))
    waits.sort()
    emails = {row["status"]: row["n"] for row in EmailEvent.objects.values("status").annotate(n=Count("id")).order_by()}
    return {
        "sold": statuses.get("distributed", 0), "unsold": statuses.get("unsold", 0),
        "lost": statuses.get("approved", 0), "not_approved": statuses.get("pending_review", 0),
        # a charge beyond one per sale, or a lead sold by two runs; a sale without its charge is "uncharged"
        "double_charges": max(0, charges - sold_to) + sold_twice,
        "uncharged": sold_to - charged,
        "drain_s": last_settled - started_wall,
        "wait_p50": statistics.median(waits) if waits else float("nan"),
        "wait_p95": percentile(waits, 95) if waits else float("nan"),
        "wait_max": waits[-1] if waits else float("nan"),
        "emails": emails,
    }


# --- one run -------------------------------------------------------------------------------------------

def run(label: str, *, leads: list[tuple[int, str]], servers: int, clusters: int, workers: int, kills: int,
        env: dict, token: str, args, log_dir: Path) -> dict:
    from django.db import connections

    connections.close_all()
    ports = [common.free_port() for _ in range(servers)]
    webs = [gunicorn(f"{label}-web{i + 1}", port, env, log_dir) for i, port in enumerate(ports)]
    cls = [qcluster(f"{label}-worker{i + 1}", workers, env, log_dir) for i in range(clusters)]
    ids = [lead_id for lead_id, _ in leads]
    kill_times: list[float] = []
    jobs_before = job_counts(env["PROMETHEUS_MULTIPROC_DIR"])
    try:
        for proc in (*webs, *cls):
            proc.start()
        deadline = time.monotonic() + 60
        for port in ports:
            wait_http(port, deadline)
        time.sleep(2)  # the clusters' processes start (their first heartbeat is not needed)
        print(f"  {label}: {servers} server(s), {clusters} qcluster(s) × {workers} worker(s) up; approving "
              f"{len(leads)} leads", flush=True)
        started_wall = time.time()
        started = time.monotonic()
        result: dict = {}
        approver = threading.Thread(target=lambda: result.update(
            zip(("approve_s", "approve_failures"), approve_all(leads, ports, token, args.api_clients), strict=True)))
        approver.start()
        thresholds = [len(ids) * (k + 1) // (kills + 2) for k in range(kills)]
        victim = cls[0]
        while approver.is_alive() or settled_count(ids) < len(ids) - result.get("approve_failures", 0):
            settled = settled_count(ids)
            if thresholds and settled >= thresholds[0]:
                thresholds.pop(0)
                victim.kill()
                kill_times.append(time.monotonic() - started)
                print(f"    SIGKILL {victim.name} at {kill_times[-1]:.1f} s ({settled} of {len(ids)} settled); "
                      f"restarting in 1 s", flush=True)
                time.sleep(1)
                victim.start()
            if not approver.is_alive() and time.monotonic() - started > result["approve_s"] + args.drain_deadline:
                print(f"    drain deadline ({args.drain_deadline} s after the last approval) passed", flush=True)
                break
            time.sleep(0.2)
        approver.join()
        connections.close_all()
        result.update(outcome(ids, started_wall))
        result["kills"] = len(kill_times)
        jobs_after = job_counts(env["PROMETHEUS_MULTIPROC_DIR"])
        result.update({key: jobs_after[key] - jobs_before[key] for key in jobs_after})
        result["throughput"] = len(ids) / result["drain_s"] if result["drain_s"] > 0 else float("nan")
        return result
    finally:
        for proc in (*cls, *webs):
            proc.stop()


def main() -> int:
    args = parse_args()
    metrics_dir = tempfile.mkdtemp(prefix="hotlead-bench-cluster-metrics-")
    log_dir = Path(tempfile.mkdtemp(prefix="hotlead-bench-cluster-logs-"))
    redis = redis_url(args)
    args.broker = "redis" if redis else "orm"
    env = {
        **{k: v for k, v in os.environ.items() if k != "REDIS_URL"},
        **({"REDIS_URL": redis} if redis else {}),
        "DATABASE_URL": common.url_for(args.database_url, args.db_name),
        "DJANGO_SETTINGS_MODULE": "hotlead.settings", "DEBUG": "0", "HOTLEAD_ALLOW_DEV_SECRET": "1",
        "SECURE_SSL_REDIRECT": "0", "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "PROMETHEUS_MULTIPROC_DIR": metrics_dir, "LOG_LEVEL": "WARNING", "DB_CONN_MAX_AGE": "60",
    }
    os.environ.clear()
    os.environ.update(env)
    print(f"Cluster benchmark: {args.leads} leads per run, broker {args.broker}, database {args.db_name}, "
          f"logs in {log_dir}")
    common.database_recreate(args.database_url, args.db_name)
    import django

    django.setup()
    from django.core.management import call_command

    t0 = time.monotonic()
    call_command("migrate", verbosity=0)
    call_command("schedules_sync", verbosity=0)
    lead_ids, token = seed(args)
    from hotlead.leads.models import Lead

    public = dict(Lead.objects.filter(pk__in=lead_ids).values_list("pk", "public_id"))
    leads = [(pk, str(public[pk])) for pk in sorted(lead_ids)]
    print(f"  migrated and seeded ({time.monotonic() - t0:.1f} s)", flush=True)
    results = {}
    try:
        if not args.skip_baseline:
            results["single"] = run("single", leads=leads[: args.leads], servers=1, clusters=1, workers=1, kills=0,
                                    env=env, token=token, args=args, log_dir=log_dir)
        results["cluster"] = run("cluster", leads=leads[args.leads: 2 * args.leads], servers=2, clusters=2,
                                 workers=args.workers, kills=args.kills, env=env, token=token, args=args,
                                 log_dir=log_dir)
        books = books_check()
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            common.database_drop(args.database_url, args.db_name)
        shutil.rmtree(metrics_dir, ignore_errors=True)

    print()
    print(f"{'':28}" + "".join(f"{name:>22}" for name in results))
    rows = [
        ("topology", lambda r, n: "1 web + 1×1 worker" if n == "single" else f"2 web + 2×{args.workers} workers"),
        ("worker SIGKILLs", lambda r, n: f"{r['kills']}"),
        ("leads approved (API)", lambda r, n: f"{args.leads - r['approve_failures']}"),
        ("sold", lambda r, n: f"{r['sold']}"),
        ("unsold", lambda r, n: f"{r['unsold']}"),
        ("lost (still approved)", lambda r, n: f"{r['lost']}"),
        ("double charges", lambda r, n: f"{r['double_charges']}"),
        ("sales without a charge", lambda r, n: f"{r['uncharged']}"),
        ("distribution jobs run", lambda r, n: f"{r['distribution_jobs']:.0f}"),
        ("re-queued by the sweep", lambda r, n: f"{r['recovered']:.0f}"),
        ("approving took", lambda r, n: f"{r['approve_s']:.1f} s"),
        ("time to drain", lambda r, n: f"{r['drain_s']:.1f} s"),
        ("throughput", lambda r, n: f"{r['throughput']:.1f} leads/s"),
        ("approval → outcome p50", lambda r, n: f"{r['wait_p50']:.2f} s"),
        ("approval → outcome p95", lambda r, n: f"{r['wait_p95']:.2f} s"),
        ("approval → outcome max", lambda r, n: f"{r['wait_max']:.1f} s"),
    ]
    for title, cell in rows:
        print(f"{title:28}" + "".join(f"{cell(r, n):>22}" for n, r in results.items()))
    if "single" in results:
        ratio = results["cluster"]["throughput"] / results["single"]["throughput"]
        print(f"{'throughput ratio':28}{'':>22}{ratio:>21.2f}×")
    print(f"unbalanced accounts         {books['unbalanced_accounts']} (whole database) · oversold leads "
          f"{books['oversold_leads']} · {books['assignments']} assignments, {books['charges']} charges")
    print(f"e-mail events at the end    {results['cluster']['emails']}")
    cluster = results["cluster"]
    checks = [
        ("every approval answered", all(r["approve_failures"] == 0 for r in results.values())),
        ("lost 0", all(r["lost"] == 0 for r in results.values())),
        ("double charges 0", all(r["double_charges"] == 0 and r["uncharged"] == 0 for r in results.values())),
        ("unbalanced accounts 0", books["unbalanced_accounts"] == 0 and books["oversold_leads"] == 0
         and books["charges"] == books["assignments"]),
        (f"{args.kills} worker SIGKILLs during the run", cluster["kills"] == args.kills),
        (f"every lead sold or unsold within {MAX_WAIT_TARGET_S:.0f} s of approval",
         all(r["wait_max"] <= MAX_WAIT_TARGET_S for r in results.values())),
    ]
    return common.checks_report(checks)


if __name__ == "__main__":
    sys.exit(main())
