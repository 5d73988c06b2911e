"""Background jobs of the distribution engine (SPEC §4, §11). Thin: fetch by id, call one service.

Every job is idempotent: django-q2 delivers at least once, and `job_run` retries failures.
"""
from __future__ import annotations

from datetime import date

from hotlead.distribution.services.engine import lead_distribute_if_pending, unsold_leads_redistribute
from hotlead.distribution.services.outcomes import assignment_digest_send, lead_outcome_notify
from hotlead.distribution.services.recovery import approved_leads_requeue, outcomes_requeue


def lead_distribute_job(lead_id: int, trigger: str = "approval") -> str:
    """Distribute one lead. A retried job on a lead that is no longer waiting does nothing."""
    return lead_distribute_if_pending(lead_id=lead_id, trigger=trigger)


def lead_outcome_notify_job(lead_id: int, run_id: int) -> None:
    """After a run: e-mail the submitter and the buyers who want instant e-mails (deduplicated)."""
    lead_outcome_notify(lead_id=lead_id, run_id=run_id)


def unsold_redistribute_job() -> int:
    """Every 15 minutes: queue a new run for each unsold lead still inside the freshness window."""
    return unsold_leads_redistribute()


def approved_leads_recover_job() -> int:
    """Twice a minute: queue again the approved leads (and the runs' outcome e-mails) a crashed worker lost."""
    return len(approved_leads_requeue()) + len(outcomes_requeue())


def assignment_digest_job(day: str | None = None) -> int:
    """Daily: the digest e-mail of yesterday's (UTC) leads for providers who chose it."""
    return assignment_digest_send(day=date.fromisoformat(day) if day else None)
