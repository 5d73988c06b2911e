"""Prometheus metrics shared by every process (multiprocess mode, PROMETHEUS_MULTIPROC_DIR).

Counters and histograms live in `hotlead/<app>/metrics.py`; each process writes its figures to
files in the directory, and a scrape adds them up, so gunicorn workers and job workers all count.
Figures that are a state of the database (queue depth, DLQ size) are not per-process: an app
registers a collector with `scrape_collector_add` and it is computed at scrape time instead.
A Gauge that processes do write must name its `multiprocess_mode` ("livesum", "max", "mostrecent"…):
the default keeps one series per process id.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable

from django.conf import settings
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest, multiprocess
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

logger = logging.getLogger("hotlead.metrics")

HTTP_REQUEST_DURATION = Histogram(
    "hotlead_http_request_duration_seconds",
    "HTTP request duration by route template",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)

_SCRAPE_COLLECTORS: list[Collector] = []


def scrape_collector_add(collector: Collector) -> None:
    """Compute `collector` at every scrape (idempotent: an AppConfig.ready may run twice in tests)."""
    if all(type(existing) is not type(collector) for existing in _SCRAPE_COLLECTORS):
        _SCRAPE_COLLECTORS.append(collector)


class _Guarded(Collector):
    """A failing scrape-time collector (database down) drops its figures, never the whole scrape."""

    def __init__(self, inner: Collector) -> None:
        self.inner = inner

    def collect(self) -> Iterable[Metric]:
        try:
            return list(self.inner.collect())
        except Exception:  # noqa: BLE001 - the other figures still matter when one source is down
            logger.warning("metrics collector failed", extra={"collector": type(self.inner).__name__})
            return []


def render_latest() -> tuple[bytes, str]:
    """Every process's figures from the multiprocess directory, plus the scrape-time collectors."""
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=settings.PROMETHEUS_MULTIPROC_DIR)
    for collector in _SCRAPE_COLLECTORS:
        registry.register(_Guarded(collector))
    return generate_latest(registry), CONTENT_TYPE_LATEST
