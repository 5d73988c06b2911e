"""Reads of distribution runs and their traces (SPEC §4.5, §13) for the admin API and the console."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection
from django.utils import timezone

from hotlead.distribution.enums import SkipReason
from hotlead.distribution.models import Assignment, DistributionRun
from hotlead.distribution.services.eligibility import level_eligibility
from hotlead.distribution.services.facts import lead_facts_of, levels_to_walk
from hotlead.leads.models import Lead
from hotlead.levels.enums import SubscriptionStatus
from hotlead.levels.models import Subscription
from hotlead.providers.models import Provider

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


MISSED_DAYS = 7


@dataclass(frozen=True)
class MissedLeads:
    """Leads a provider did not get because of their balance, read from the stored run traces."""

    count: int
    price_cents: int  # the highest lead price among them: the balance that would have bought every one
    days: int


def provider_missed_for_balance(*, provider_id: int, days: int = MISSED_DAYS,
                                now: datetime | None = None) -> MissedLeads:
    """Distinct leads of the last `days` days that a level's trace skipped this provider for, because of money.

    Counted: the provider is under the "balance" skip reason of a level, or under "inactive" at a level where
    their subscription is paused for funds (`inactive_funds`: a subscription whose price exceeds the balance
    leaves the running until a deposit). Leads the provider bought in the end (a later run) are not counted.
    """
    since = (now or timezone.now()) - timedelta(days=days)
    # A run only weighs a provider's money once the lead is in a category they serve: read only those runs.
    category_ids = sorted(Provider.categories.through.objects.filter(provider_id=provider_id)
                          .values_list("category_id", flat=True))
    if not category_ids or not Subscription.objects.filter(provider_id=provider_id).exclude(
            status=SubscriptionStatus.CANCELLED).exists():
        return MissedLeads(count=0, price_cents=0, days=days)
    funds_levels = sorted(Subscription.objects.filter(provider_id=provider_id, status=SubscriptionStatus.INACTIVE_FUNDS)
                          .values_list("level__slug", flat=True))
    bought = Assignment.objects.filter(provider_id=provider_id, assigned_at__gte=since - timedelta(days=1))
    bought_leads = set(bought.values_list("lead_id", flat=True))
    if connection.vendor == "postgresql":
        sql = f"""
SELECT r.lead_id, max((lvl->>'price_cents')::bigint)
FROM {DistributionRun._meta.db_table} r
JOIN {Lead._meta.db_table} l ON l.id = r.lead_id AND l.category_id = ANY(%s)
CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(r.trace->'levels') = 'array'
                                             THEN r.trace->'levels' ELSE '[]'::jsonb END) AS lvl
WHERE r.started_at >= %s
  AND (COALESCE(lvl->'skipped_providers'->'{SkipReason.BALANCE.value}', '[]'::jsonb) @> to_jsonb(%s::bigint)
       OR (lvl->>'level' = ANY(%s)
           AND COALESCE(lvl->'skipped_providers'->'{SkipReason.INACTIVE.value}', '[]'::jsonb) @> to_jsonb(%s::bigint)))
GROUP BY r.lead_id"""  # noqa: S608 - table name and reasons are constants
        with connection.cursor() as cursor:
            cursor.execute(sql, [category_ids, since, provider_id, funds_levels, provider_id])
            rows = cursor.fetchall()
    else:  # SQLite (the demo): the same reading in Python
        found: dict[int, int] = {}
        for lead_id, trace in DistributionRun.objects.filter(
                started_at__gte=since, lead__category_id__in=category_ids).values_list("lead_id", "trace"):
            for level in (trace or {}).get("levels", []) or []:
                skipped = level.get("skipped_providers") or {}
                if provider_id in (skipped.get(SkipReason.BALANCE.value) or []) or (
                        level.get("level") in funds_levels
                        and provider_id in (skipped.get(SkipReason.INACTIVE.value) or [])):
                    found[lead_id] = max(found.get(lead_id, 0), int(level.get("price_cents") or 0))
        rows = list(found.items())
    missed = [(lead_id, price) for lead_id, price in rows if lead_id not in bought_leads]
    return MissedLeads(count=len(missed), price_cents=max((price or 0 for _, price in missed), default=0), days=days)
