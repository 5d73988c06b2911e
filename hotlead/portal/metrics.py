"""Metrics of the provider side (SPEC §11): how long the inbox query takes, by surface (api, portal)."""
from __future__ import annotations

from prometheus_client import Histogram

INBOX_QUERY_DURATION = Histogram(
    "hotlead_inbox_query_duration_seconds",
    "Duration of one inbox page query (the provider's assignments, keyset-paginated)",
    ["surface"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
