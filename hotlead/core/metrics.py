"""Prometheus metrics shared by every process (multiprocess mode, PROMETHEUS_MULTIPROC_DIR).

Domain apps define their own metrics in `hotlead/<app>/metrics.py`; this module has the
HTTP histogram and the exposition helper.
"""
from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest, multiprocess

HTTP_REQUEST_DURATION = Histogram(
    "hotlead_http_request_duration_seconds",
    "HTTP request duration by route template",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


def render_latest() -> tuple[bytes, str]:
    """Collect every process's figures from the multiprocess directory."""
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return generate_latest(registry), CONTENT_TYPE_LATEST
