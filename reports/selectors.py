"""Report reads (SPEC §9, §10): SQL aggregates, one query per figure set, no rows loaded into Python.

Ranges are `reports.ranges.DateRange` (inclusive dates in the site's time zone). Lead counts are by the
cohort of leads *created* in the range; money is what the ledger *posted* in the range, so every money
figure agrees with the ledger to the cent. Shaping (zero-filled days, totals) is `reports.frames`.
"""
from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from django.apps import apps
from django.conf import settings
from django.db import connection
from django.db.models import F, Max
from django.utils import timezone

from hotlead.core.exceptions import NotFound, ValidationFailed
from hotlead.distribution.models import Assignment, DistributionRun
from hotlead.levels.models import Subscription
from hotlead.providers.models import Provider
from reports.enums import ExportStatus
from reports.frames import revenue_frame_shape
from reports.models import ExportJob
from reports.ranges import DateRange

if TYPE_CHECKING:
    from hotlead.accounts.models import User

logger = logging.getLogger(__name__)


def _table(app_model: str) -> str:
    return connection.ops.quote_name(apps.get_model(app_model)._meta.db_table)


def _rows(sql: str, params: dict | list | None = None) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or {})
        return cursor.fetchall()


def _ratio(numerator: int, denominator: int, places: str = "0.0001") -> float:
    if not denominator:
        return 0.0
    return float((Decimal(numerator) / Decimal(denominator)).quantize(Decimal(places), ROUND_HALF_UP))


def site_tz_name() -> str:
    return str(timezone.get_default_timezone())


def _postgres() -> bool:
    return connection.vendor == "postgresql"


def _local_date_sql(column: str) -> str:
    """The date of a timestamp in the site's time zone (parameter %(tz)s), on PostgreSQL and the SQLite demo."""
    if _postgres():
        return f"({column} AT TIME ZONE %(tz)s)::date"
    return f"django_datetime_cast_date({column}, %(tz)s, 'UTC')"  # Django's own SQLite function


def _as_date(value) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value


# --- KPIs and funnel ------------------------------------------------------------------------------------

# The furthest state a lead reached, from its current status: the lifecycle (SPEC §3) only moves forward, so
# a rejected lead was verified and confirmed, an unsold one approved. Status alone keeps the count an
# index-only scan of `report_lead_created_idx`.
_REACHED_VERIFIED = ("verified", "pending_review", "approved", "rejected", "distributed", "unsold")
_REACHED_CONFIRMED = ("pending_review", "approved", "rejected", "distributed", "unsold")
_REACHED_APPROVED = ("approved", "distributed", "unsold")


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


def lead_counts_sql() -> str:
    """One pass over the leads created in [start, end): how many reached each state."""
    return f"""
SELECT count(*) AS submitted,
       count(*) FILTER (WHERE status IN {_in(_REACHED_VERIFIED)}) AS verified,
       count(*) FILTER (WHERE status IN {_in(_REACHED_CONFIRMED)}) AS confirmed,
       count(*) FILTER (WHERE status IN {_in(_REACHED_APPROVED)}) AS approved,
       count(*) FILTER (WHERE status = 'rejected') AS rejected,
       count(*) FILTER (WHERE status = 'distributed') AS distributed,
       count(*) FILTER (WHERE status = 'unsold') AS unsold,
       coalesce(sum(buyers_count) FILTER (WHERE status = 'distributed'), 0) AS assignments
FROM {_table('leads.Lead')}
WHERE created_at >= %(start)s AND created_at < %(end)s"""


def ledger_totals_sql() -> str:
    """Charges and refunds the ledger posted in [start, end), as positive cents, and the charge count."""
    return f"""
SELECT coalesce(-sum(amount_cents) FILTER (WHERE kind = 'charge'), 0) AS charges,
       coalesce(sum(amount_cents) FILTER (WHERE kind = 'refund'), 0) AS refunds,
       count(*) FILTER (WHERE kind = 'charge') AS charge_count
FROM {_table('billing.LedgerEntry')}
WHERE kind IN ('charge', 'refund') AND created_at >= %(start)s AND created_at < %(end)s"""


def lead_counts(*, rng: DateRange) -> dict[str, int]:
    names = ("submitted", "verified", "confirmed", "approved", "rejected", "distributed", "unsold", "assignments")
    (row,) = _rows(lead_counts_sql(), {"start": rng.start, "end": rng.end})
    return {name: int(value or 0) for name, value in zip(names, row, strict=True)}


def ledger_totals(*, rng: DateRange) -> dict[str, int]:
    (row,) = _rows(ledger_totals_sql(), {"start": rng.start, "end": rng.end})
    charges, refunds, count = (int(v or 0) for v in row)
    return {"charges_cents": charges, "refunds_cents": refunds, "net_cents": charges - refunds, "charges": count}


def kpis(*, rng: DateRange) -> dict:
    """SPEC §10's admin KPIs over the leads created and the money posted in the range."""
    counts = lead_counts(rng=rng)
    money = ledger_totals(rng=rng)
    sold, unsold = counts["distributed"], counts["unsold"]
    return {
        "date_from": rng.date_from,
        "date_to": rng.date_to,
        "submitted": counts["submitted"],
        "verified": counts["verified"],
        "approved": counts["approved"],
        "rejected": counts["rejected"],
        "distributed": sold,
        "unsold": unsold,
        "sell_through": _ratio(sold, sold + unsold),
        "avg_buyers_per_lead": _ratio(counts["assignments"], sold, "0.01"),
        "revenue_cents": money["charges_cents"],
        "refunds_cents": money["refunds_cents"],
        "net_cents": money["net_cents"],
    }


FUNNEL_STEPS = ("submitted", "verified", "confirmed", "approved", "distributed")


def funnel(*, rng: DateRange) -> dict:
    counts = lead_counts(rng=rng)
    steps, previous = [], None
    for step in FUNNEL_STEPS:
        count = counts[step]
        conversion = 1.0 if previous is None else _ratio(count, previous)
        steps.append({"step": step, "count": count, "conversion": conversion})
        previous = count
    return {"date_from": rng.date_from, "date_to": rng.date_to, "steps": steps}


# --- revenue -------------------------------------------------------------------------------------------

GROUPS = ("day", "level", "category", "source")
UNLINKED_KEY = "(none)"  # a charge or refund with no assignment behind it (none today; the rows still sum up)
DIRECT_KEY = "(direct)"  # group_by=source: a lead from our own form or API, not posted with a lead source's key


def revenue_rows(*, rng: DateRange, group_by: str) -> list[dict]:
    """Ledger charges and refunds posted in the range, grouped; refunds land on the charge's level/category/source."""
    entries, assignments = _table("billing.LedgerEntry"), _table("distribution.Assignment")
    params = {"start": rng.start, "end": rng.end, "tz": site_tz_name()}
    if group_by == "day":
        key_sql, joins = _local_date_sql("e.created_at"), ""
    elif group_by == "level":
        key_sql = f"coalesce(l.slug, '{UNLINKED_KEY}')"
        joins = (f"LEFT JOIN {assignments} a ON a.charge_entry_id = coalesce(e.refund_of_id, e.id) "
                 f"LEFT JOIN {_table('levels.CompetitionLevel')} l ON l.id = a.level_id")
    elif group_by == "category":
        key_sql = f"coalesce(c.slug, '{UNLINKED_KEY}')"
        joins = (f"LEFT JOIN {assignments} a ON a.charge_entry_id = coalesce(e.refund_of_id, e.id) "
                 f"LEFT JOIN {_table('leads.Category')} c ON c.id = a.category_id")
    elif group_by == "source":  # the lead source (issue 15) that posted the lead sold
        key_sql = f"CASE WHEN a.id IS NULL THEN '{UNLINKED_KEY}' ELSE coalesce(s.name, '{DIRECT_KEY}') END"
        joins = (f"LEFT JOIN {assignments} a ON a.charge_entry_id = coalesce(e.refund_of_id, e.id) "
                 f"LEFT JOIN {_table('leads.Lead')} ld ON ld.id = a.lead_id "
                 f"LEFT JOIN {_table('sources.LeadSource')} s ON s.id = ld.lead_source_id")
    else:
        raise ValidationFailed.for_field("group_by", f"Choose one of: {', '.join(GROUPS)}.")
    sql = f"""
SELECT {key_sql} AS key,
       count(*) FILTER (WHERE e.kind = 'charge') AS assignments,
       coalesce(-sum(e.amount_cents) FILTER (WHERE e.kind = 'charge'), 0) AS charges_cents,
       coalesce(sum(e.amount_cents) FILTER (WHERE e.kind = 'refund'), 0) AS refunds_cents
FROM {entries} e {joins}
WHERE e.kind IN ('charge', 'refund') AND e.created_at >= %(start)s AND e.created_at < %(end)s
GROUP BY 1 ORDER BY 1"""
    return [
        {"key": _as_date(key).isoformat() if group_by == "day" else key, "assignments": int(n),
         "charges_cents": int(charges), "refunds_cents": int(refunds)}
        for key, n, charges, refunds in _rows(sql, params)
    ]


def revenue(*, rng: DateRange, group_by: str) -> dict:
    rows, total = revenue_frame_shape(rows=revenue_rows(rng=rng, group_by=group_by), group_by=group_by, rng=rng)
    return {"date_from": rng.date_from, "date_to": rng.date_to, "group_by": group_by, "rows": rows, "total": total}


# --- fairness: starvation --------------------------------------------------------------------------------

STARVATION_DEFAULT_DAYS = 7


def starvation(*, days: int = STARVATION_DEFAULT_DAYS, now: datetime | None = None) -> dict:
    """Active, funded subscriptions with no lead for `days` days while leads they were eligible for (per the
    stored distribution traces) were sold to others or went unsold — most leads missed first."""
    if days < 1 or days > 365:
        raise ValidationFailed.for_field("days", "Choose between 1 and 365 days.")
    now = now or timezone.now()
    since = now - timedelta(days=days)
    if not _postgres():
        return {"days": days, "items": _starvation_python(since=since)}
    sql = f"""
WITH missed AS (
  SELECT lv->>'level' AS level_slug, (e.value)::bigint AS provider_id, count(*) AS n
  FROM {_table('distribution.DistributionRun')} r
  CROSS JOIN LATERAL jsonb_array_elements(coalesce(r.trace->'levels', '[]'::jsonb)) AS lv
  CROSS JOIN LATERAL jsonb_array_elements_text(coalesce(lv->'eligible_providers', '[]'::jsonb)) AS e(value)
  WHERE r.started_at >= %(since)s
    AND NOT coalesce(lv->'chosen', '[]'::jsonb) @> to_jsonb((e.value)::bigint)
  GROUP BY 1, 2
)
SELECT p.id, p.company_name, s.id, l.slug,
       (SELECT max(a.assigned_at) FROM {_table('distribution.Assignment')} a WHERE a.subscription_id = s.id),
       m.n
FROM {_table('levels.Subscription')} s
JOIN {_table('levels.CompetitionLevel')} l ON l.id = s.level_id
JOIN {_table('providers.Provider')} p ON p.id = s.provider_id
JOIN {_table('billing.Account')} acc ON acc.provider_id = p.id
JOIN missed m ON m.level_slug = l.slug AND m.provider_id = p.id
WHERE s.status = 'active' AND l.active AND l.archived_at IS NULL AND p.status = 'active'
  AND acc.balance_cents >= l.price_cents
  AND NOT EXISTS (SELECT 1 FROM {_table('distribution.Assignment')} a
                  WHERE a.subscription_id = s.id AND a.assigned_at >= %(since)s)
ORDER BY m.n DESC, 5 ASC NULLS FIRST, s.id"""
    items = [
        {"provider_id": pid, "company_name": company, "subscription_id": sid, "level": slug,
         "last_assigned_at": last, "eligible_leads_missed": int(n)}
        for pid, company, sid, slug, last, n in _rows(sql, {"since": since})
    ]
    return {"days": days, "items": items}


def _starvation_python(*, since: datetime) -> list[dict]:
    """The same rule for the SQLite demo (no jsonb): the week's traces read in Python."""
    missed: Counter = Counter()
    for trace in DistributionRun.objects.filter(started_at__gte=since).values_list("trace", flat=True):
        for level in (trace or {}).get("levels", []):
            chosen = set(level.get("chosen") or [])
            for provider_id in level.get("eligible_providers") or []:
                if provider_id not in chosen:
                    missed[(level.get("level"), provider_id)] += 1
    served_recently = Assignment.objects.filter(assigned_at__gte=since).values("subscription_id")
    subs = (Subscription.objects.filter(status="active", level__active=True, level__archived_at__isnull=True,
                                        provider__status="active",
                                        provider__account__balance_cents__gte=F("level__price_cents"))
            .exclude(pk__in=served_recently).annotate(last=Max("assignments__assigned_at"))
            .values("pk", "provider_id", "provider__company_name", "level__slug", "last"))
    items = [{"provider_id": s["provider_id"], "company_name": s["provider__company_name"],
              "subscription_id": s["pk"], "level": s["level__slug"], "last_assigned_at": s["last"],
              "eligible_leads_missed": missed[(s["level__slug"], s["provider_id"])]}
             for s in subs if missed[(s["level__slug"], s["provider_id"])]]
    never = datetime.min.replace(tzinfo=timezone.get_default_timezone())
    return sorted(items, key=lambda i: (-i["eligible_leads_missed"], i["last_assigned_at"] or never,
                                        i["subscription_id"]))


# --- flagged providers ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FlagPolicy:
    return_window: int
    return_max_percent: int
    reject_window: int
    reject_max_percent: int


def flag_policy() -> FlagPolicy:
    hl = settings.HOTLEAD
    return FlagPolicy(
        return_window=int(hl.get("RETURN_RATE_WINDOW", 50)),
        return_max_percent=int(hl.get("RETURN_RATE_MAX_PERCENT", 20)),
        reject_window=int(hl.get("REJECT_RATE_WINDOW", 50)),
        reject_max_percent=int(hl.get("REJECT_RATE_MAX_PERCENT", 40)),
    )


def provider_flags(*, only_flagged: bool = False) -> dict:
    """Every provider with assignments: total assignments, return and reject rate over its last N (the windows
    of SPEC §6, divided by the window as the auto-approval cap is), the stored flag and its reason."""
    policy = flag_policy()
    window = max(policy.return_window, policy.reject_window)
    if not _postgres():
        return {"policy": policy.__dict__, "items": _flags_python(policy=policy, only_flagged=only_flagged)}
    # Per provider, its last `window` assignments through the (provider, -assigned_at, -id) index: a LATERAL
    # LIMIT, never a sort of every assignment.
    assignments = _table("distribution.Assignment")
    sql = f"""
SELECT p.id, p.company_name,
       (SELECT count(*) FROM {assignments} t WHERE t.provider_id = p.id),
       w.returns, w.rejects, p.flagged, p.flagged_reason
FROM {_table('providers.Provider')} p
CROSS JOIN LATERAL (
  SELECT count(*) AS n,
         count(*) FILTER (WHERE x.rn <= %(rw)s AND x.reported) AS returns,
         count(*) FILTER (WHERE x.rn <= %(jw)s AND x.rejected) AS rejects
  FROM (
    SELECT row_number() OVER (ORDER BY a.assigned_at DESC, a.id DESC) AS rn,
           (a.status = 'rejected' OR a.rejected_at IS NOT NULL) AS rejected,
           EXISTS (SELECT 1 FROM {_table('refunds.BadLeadReport')} b WHERE b.assignment_id = a.id) AS reported
    FROM {assignments} a WHERE a.provider_id = p.id
    ORDER BY a.assigned_at DESC, a.id DESC LIMIT %(window)s
  ) AS x
) AS w
WHERE w.n > 0
ORDER BY p.flagged DESC, p.company_name, p.id"""
    items = [
        _flag_item(policy=policy, pid=pid, company=company, total=total, returns=returns, rejects=rejects,
                   flagged=flagged, reason=reason)
        for pid, company, total, returns, rejects, flagged, reason in _rows(
            sql, {"rw": policy.return_window, "jw": policy.reject_window, "window": window})
        if flagged or not only_flagged
    ]
    return {"policy": policy.__dict__, "items": items}


def _flag_item(*, policy: FlagPolicy, pid: int, company: str, total: int, returns: int, rejects: int, flagged: bool,
               reason: str) -> dict:
    return {
        "provider_id": pid, "company_name": company, "assignments": int(total),
        "return_rate": _ratio(int(returns), policy.return_window),
        "reject_rate": _ratio(int(rejects), policy.reject_window),
        "return_over": int(returns) * 100 > policy.return_max_percent * policy.return_window,
        "reject_over": int(rejects) * 100 > policy.reject_max_percent * policy.reject_window,
        "flagged": bool(flagged), "flagged_reason": reason or "",
    }


def _flags_python(*, policy: FlagPolicy, only_flagged: bool) -> list[dict]:
    """The same figures for the SQLite demo (no LATERAL): one small read per provider."""
    items = []
    for provider in Provider.objects.filter(assignments__isnull=False).distinct().order_by("-flagged",
                                                                                             "company_name", "id"):
        if only_flagged and not provider.flagged:
            continue
        recent = list(Assignment.objects.filter(provider_id=provider.pk).order_by("-assigned_at", "-id")
                      .values_list("status", "rejected_at", "bad_lead_report")[: max(policy.return_window,
                                                                                      policy.reject_window)])
        returns = sum(1 for _, _, report in recent[: policy.return_window] if report)
        rejects = sum(1 for status, at, _ in recent[: policy.reject_window] if status == "rejected" or at)
        items.append(_flag_item(policy=policy, pid=provider.pk, company=provider.company_name,
                                total=Assignment.objects.filter(provider_id=provider.pk).count(), returns=returns,
                                rejects=rejects, flagged=provider.flagged, reason=provider.flagged_reason))
    return items


# --- export jobs -----------------------------------------------------------------------------------------

def export_get(*, job_id: int, user: User, as_admin: bool):
    """The export job `user` may see: their own, or any when `as_admin` (staff). Anyone else: NotFound (404)."""
    qs = ExportJob.objects.all()
    if not as_admin:
        qs = qs.filter(requested_by_id=user.pk)
    job = qs.filter(pk=job_id).first()
    if job is None:
        raise NotFound("No such export.")
    return job


def exports_for_user(*, user: User, limit: int = 50):
    return list(ExportJob.objects.filter(requested_by_id=user.pk).order_by("-created_at", "-id")[:limit])


def export_file_path(*, job):
    """The finished file of a job, or NotFound when it is not ready, expired or deleted."""
    if job.status != ExportStatus.DONE or not job.file_name or job.file_deleted_at or job.expires_at <= timezone.now():
        raise NotFound("This export has no file to download (not ready, or expired).")
    path = Path(settings.EXPORTS_ROOT) / job.file_name
    if not path.exists():
        raise NotFound("This export's file is gone.")
    return path
