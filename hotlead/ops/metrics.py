"""Job metrics (SPEC §11): enqueued/completed/failed, duration, queue depth and DLQ size.

Counters and the histogram are written by whichever process runs the job (multiprocess files);
queue depth and DLQ size are states of the broker and the database, computed at scrape time.
"""
from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

JOBS = Counter(
    "hotlead_jobs",
    "Background jobs by event (enqueued, completed, failed, dead_lettered) and task",
    ["event", "task"],
)
JOB_DURATION = Histogram(
    "hotlead_job_duration_seconds",
    "Duration of one job attempt, by task and outcome (success, failure)",
    ["task", "outcome"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)


class QueueCollector(Collector):
    """Queue depth, open dead letters and the worker heartbeat's age, read when scraped."""

    def collect(self) -> Iterable[GaugeMetricFamily]:
        # lazy: metrics modules load without Django set up (the gunicorn master, the metrics test)
        from hotlead.ops.selectors import dead_letter_open_count, queue_depth, worker_last_seen_seconds

        depth = GaugeMetricFamily("hotlead_job_queue_depth", "Jobs waiting in the broker's queue")
        depth.add_metric([], queue_depth())
        dlq = GaugeMetricFamily("hotlead_dlq_size", "Dead letters waiting for staff (open)")
        dlq.add_metric([], dead_letter_open_count())
        # +Inf when no worker ever beat: the "worker heartbeat missing" alert fires rather than seeing no series.
        age = worker_last_seen_seconds()
        heartbeat = GaugeMetricFamily("hotlead_worker_heartbeat_age_seconds",
                                      "Seconds since a job worker last ran the heartbeat schedule (+Inf: never)")
        heartbeat.add_metric([], float("inf") if age is None else age)
        return [depth, dlq, heartbeat]
