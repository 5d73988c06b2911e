"""Reads of distribution runs and their traces (SPEC §4.5, §13) for the admin API and the console."""
from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from hotlead.distribution.models import DistributionRun

RUNS_SHOWN = 20


def _level_summary(level: dict) -> dict:
    return {
        "level": level.get("level"),
        "considered": level.get("considered", 0),
        "eligible": level.get("eligible", 0),
        "skipped": dict(level.get("skipped") or {}),
        "chosen": list(level.get("chosen") or []),
        "why": level.get("why", ""),
    }


def distribution_run_summary(*, run: DistributionRun) -> dict:
    """One run as the admin API and console show it: {id, trigger, actor, outcome, buyers, …, levels}."""
    return {
        "id": run.pk,
        "trigger": run.trigger,
        "actor": run.actor.email if run.actor_id else None,
        "outcome": run.outcome,
        "buyers": run.buyers,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "duration_ms": run.duration_ms,
        "levels": [_level_summary(level) for level in (run.trace or {}).get("levels", [])],
    }


def lead_distribution_summary(*, lead_id: int, limit: int = RUNS_SHOWN) -> dict:
    """{"runs": [run summary, …]} newest first (SPEC §13's `distribution` of the admin lead detail)."""
    runs = (DistributionRun.objects.filter(lead_id=lead_id).select_related("actor")
            .order_by("-started_at", "-id")[:limit])
    return {"runs": [distribution_run_summary(run=run) for run in runs]}


def provider_skip_explanation(*, lead_id: int, provider_id: int) -> list[dict]:
    """For support ("why didn't I get this lead?"): per run and level walked, what happened to one provider.

    `result` is "chosen", "eligible" (eligible, but others were ahead by fairness), a skip reason, or
    "category_area_or_no_subscription" (the trace keeps provider ids for actionable reasons only).
    """
    answers = []
    for run in DistributionRun.objects.filter(lead_id=lead_id).order_by("started_at", "id"):
        for level in (run.trace or {}).get("levels", []):
            if provider_id in (level.get("chosen") or []):
                result = "chosen"
            elif provider_id in (level.get("eligible_providers") or []):
                result = "eligible"
            else:
                result = next((reason for reason, ids in (level.get("skipped_providers") or {}).items()
                               if provider_id in ids), "category_area_or_no_subscription")
            answers.append({"run": run.pk, "started_at": run.started_at, "level": level.get("level"),
                            "result": result})
    return answers


def lead_distribution_preview(*, lead, now: datetime | None = None) -> list[dict]:
    """What a run would do now (read-only, no locks): per level walked, considered, eligible, skipped.

    Shown on the console's "Distribute now" confirmation page; the real run re-decides under locks.
    """
    from hotlead.distribution.services.eligibility import lead_facts_of, level_eligibility, levels_to_walk

    now = now or timezone.now()
    facts = lead_facts_of(lead)
    walked = []
    for level in levels_to_walk():
        found = level_eligibility(lead=facts, level=level, now=now, limit=level.max_recipients)
        walked.append({
            "level": level.slug, "name": level.name, "price_cents": level.price_cents,
            "max_recipients": level.max_recipients, "considered": found.considered, "eligible": found.eligible,
            "skipped": dict(sorted(found.skipped.items())),
            "would_sell_to": [c.provider_id for c in found.candidates],
        })
        if found.candidates:
            break
    return walked
