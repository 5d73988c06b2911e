"""Background jobs of the distribution engine (SPEC §4, §11). Thin: fetch by id, call one service.

Every job is idempotent: django-q2 delivers at least once, and `job_run` retries failures.
"""
from __future__ import annotations


def lead_distribute_job(lead_id: int, trigger: str = "approval") -> str:
    """Distribute one lead. A retried job on a lead that is no longer waiting does nothing."""
    from hotlead.distribution.services.engine import lead_distribute_if_pending

    return lead_distribute_if_pending(lead_id=lead_id, trigger=trigger)
