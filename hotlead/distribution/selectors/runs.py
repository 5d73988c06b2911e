"""Reads of distribution runs and their traces (SPEC §4.5, §13) for the admin API and the console."""
from __future__ import annotations

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


def lead_distribution_summary(*, lead_id: int, limit: int = RUNS_SHOWN) -> dict:
    """{"runs": [{id, trigger, actor, outcome, buyers, started_at, duration_ms, levels: [...]}]}, newest first."""
    runs = (DistributionRun.objects.filter(lead_id=lead_id).select_related("actor")
            .order_by("-started_at", "-id")[:limit])
    return {
        "runs": [
            {
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
            for run in runs
        ]
    }


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
