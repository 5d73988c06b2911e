"""Webhook delivery metrics (SPEC §11), written after commit by the process that made the attempt.

Alert on the failure ratio, e.g.
  sum(rate(hotlead_webhook_deliveries_total{outcome!="success"}[15m]))
    / sum(rate(hotlead_webhook_deliveries_total[15m])) > 0.2
"""
from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

WEBHOOK_DELIVERIES = Counter(
    "hotlead_webhook_deliveries",
    "Webhook delivery attempts to providers' endpoints, by outcome (success, http_error, network_error, refused)",
    ["outcome"],
)
WEBHOOK_DELIVERY_LATENCY = Histogram(
    "hotlead_webhook_delivery_latency_seconds",
    "Time from sending a webhook to the end of its answer (or the failure), by outcome",
    ["outcome"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
WEBHOOK_DEAD_LETTERED = Counter(
    "hotlead_webhook_dead_lettered",
    "Webhook deliveries that failed every attempt and went to the dead-letter queue",
)
WEBHOOK_ENDPOINTS_DISABLED = Counter(
    "hotlead_webhook_endpoints_disabled",
    "Webhook endpoints disabled after too many consecutive failures",
)


class WebhookStateCollector(Collector):
    """What waits now (read from the database at scrape time): deliveries being retried, disabled endpoints."""

    def collect(self) -> Iterable[GaugeMetricFamily]:
        # lazy: metrics modules load without Django set up (the gunicorn master, the metrics test)
        from hotlead.webhooks.selectors import webhook_state_counts

        counts = webhook_state_counts()
        retrying = GaugeMetricFamily("hotlead_webhook_deliveries_retrying",
                                     "Webhook deliveries that failed and wait for their next attempt")
        retrying.add_metric([], counts["retrying"])
        disabled = GaugeMetricFamily("hotlead_webhook_endpoints_disabled_now",
                                     "Providers' webhook endpoints currently disabled")
        disabled.add_metric([], counts["disabled"])
        return [retrying, disabled]
