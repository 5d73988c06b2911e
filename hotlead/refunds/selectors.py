"""Reads for bad-lead reports: the reporting window, return rates, rule matching, the review list."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

import phonenumbers
from django.conf import settings
from django.db.models import Count, QuerySet
from django.utils import timezone

from hotlead.core.exceptions import NotFound
from hotlead.core.money import money_format
from hotlead.core.pagination import MAX_DB_ID, keyset_page
from hotlead.core.rates import window_over_cap, window_percent
from hotlead.distribution.models import Assignment
from hotlead.refunds.enums import AutoRule, ReportStatus
from hotlead.refunds.models import AutoApprovalRule, BadLeadReport

# --- the reporting window ------------------------------------------------------------


def report_window_days() -> int:
    return int(settings.HOTLEAD.get("BAD_LEAD_WINDOW_DAYS", 7))


def report_window_closes_at(*, assigned_at: datetime) -> datetime:
    return assigned_at + timedelta(days=report_window_days())


def report_window_open(*, assigned_at: datetime, now: datetime) -> bool:
    """Inclusive: a report filed at exactly assigned_at + window is still in time."""
    return now <= report_window_closes_at(assigned_at=assigned_at)


# --- the return rate ------------------------------------------------------------------


@dataclass(frozen=True)
class ReturnRate:
    """Reports (any status) on the provider's last `window` assignments, divided by `window`.

    The denominator is the window itself, not the number of assignments the provider has had: a new
    provider's first bad lead is 1 of 50 (2%), not 1 of 1 (100%), so the cap means the same absolute
    number of returns for everybody (20% of 50 = 10 reports; the 11th exceeds it).
    """

    reports: int
    assignments: int
    window: int
    max_percent: int

    @property
    def percent(self) -> Decimal:
        return window_percent(self.reports, self.window)

    @property
    def bought_percent(self) -> Decimal:
        """The honest figure a provider reads: reports over the leads actually bought (at most `window` of them)."""
        return window_percent(self.reports, self.assignments)

    @property
    def max_reports(self) -> int:
        """The most reports among the last `window` leads that still allow automatic approval."""
        return self.max_percent * self.window // 100

    @property
    def over_cap(self) -> bool:
        return window_over_cap(self.reports, self.window, self.max_percent)


def return_rate_for_provider(*, provider_id: int) -> ReturnRate:
    window = int(settings.HOTLEAD.get("RETURN_RATE_WINDOW", 50))
    max_percent = int(settings.HOTLEAD.get("RETURN_RATE_MAX_PERCENT", 20))
    last_ids = (
        Assignment.objects.filter(provider_id=provider_id).order_by("-assigned_at", "-id").values("id")[:window]
    )
    figures = Assignment.objects.filter(id__in=last_ids).aggregate(
        assignments=Count("id"), reports=Count("bad_lead_report")
    )
    return ReturnRate(reports=figures["reports"], assignments=figures["assignments"], window=window,
                      max_percent=max_percent)


# --- auto-approval rules ------------------------------------------------------------------


def auto_rules_enabled() -> dict[str, bool]:
    """Every rule's switch; a rule without a row is on (the model's default, seeded by a migration)."""
    stored = dict(AutoApprovalRule.objects.values_list("code", "enabled"))
    return {code: stored.get(code, True) for code in AutoRule.values}


def phone_fails_validation(phone: str) -> bool:
    try:
        number = phonenumbers.parse(phone, settings.HOTLEAD.get("PHONE_DEFAULT_REGION", "US"))
    except phonenumbers.NumberParseException:
        return True
    return not phonenumbers.is_valid_number(number)


def assignment_matching_rule(*, assignment: Assignment, enabled: dict[str, bool]) -> str:
    """The first enabled objective rule the sold lead breaks, or "" (the provider's stated reason is not used)."""
    lead = assignment.lead
    checks = (
        (AutoRule.EMAIL_BOUNCED, lambda: lead.email_bounced),
        (AutoRule.PHONE_INVALID, lambda: not lead.phone_valid or phone_fails_validation(lead.phone)),
    )
    for code, broken in checks:
        if enabled.get(code) and broken():
            return code
    return ""


# --- reports ---------------------------------------------------------------------------------


def report_get(*, report_id: int) -> BadLeadReport:
    if not 0 < report_id <= MAX_DB_ID:
        raise NotFound("No such bad-lead report.")
    report = (
        BadLeadReport.objects.select_related("assignment__lead", "assignment__level", "assignment__category",
                                             "provider", "refund_entry", "decided_by")
        .filter(pk=report_id)
        .first()
    )
    if report is None:
        raise NotFound("No such bad-lead report.")
    return report


def provider_assignment_get(*, provider_id: int, assignment_id: int) -> Assignment:
    """One of the provider's own assignments; another provider's is NotFound (never revealed)."""
    if not 0 < assignment_id <= MAX_DB_ID:
        raise NotFound("No such lead in your inbox.")
    assignment = (
        Assignment.objects.select_related("lead", "level", "category")
        .filter(pk=assignment_id, provider_id=provider_id)
        .first()
    )
    if assignment is None:
        raise NotFound("No such lead in your inbox.")
    return assignment


def provider_report_get(*, provider_id: int, report_id: int) -> BadLeadReport:
    if not 0 < report_id <= MAX_DB_ID:
        raise NotFound("No such bad-lead report.")
    report = (
        BadLeadReport.objects.select_related("assignment__lead", "assignment__category", "refund_entry")
        .filter(pk=report_id, provider_id=provider_id)
        .first()
    )
    if report is None:
        raise NotFound("No such bad-lead report.")
    return report


def report_queryset(*, status: str | None = None, reason: str | None = None, provider_id: int | None = None,
                    min_age_hours: int | None = None, max_age_hours: int | None = None) -> QuerySet[BadLeadReport]:
    qs = BadLeadReport.objects.all()
    now = timezone.now()
    if status:
        qs = qs.filter(status=status)
    if reason:
        qs = qs.filter(reason=reason)
    if provider_id:
        qs = qs.filter(provider_id=provider_id)
    if min_age_hours is not None:
        qs = qs.filter(created_at__lte=now - timedelta(hours=min_age_hours))
    if max_age_hours is not None:
        qs = qs.filter(created_at__gte=now - timedelta(hours=max_age_hours))
    return qs


def report_list(*, status: str | None = None, reason: str | None = None, provider_id: int | None = None,
                min_age_hours: int | None = None, max_age_hours: int | None = None, cursor: str | None = None,
                limit: int = 50) -> tuple[list[BadLeadReport], str | None]:
    """Newest first, keyset-paginated on (created_at, id)."""
    qs = report_queryset(status=status, reason=reason, provider_id=provider_id, min_age_hours=min_age_hours,
                         max_age_hours=max_age_hours)
    qs = qs.select_related("assignment__lead", "provider", "refund_entry")
    return keyset_page(qs, order=("-created_at", "-id"), cursor=cursor, limit=limit, message="The cursor is not valid.")


def rate_as_dict(rate: ReturnRate) -> dict:
    return {"percent": rate.percent, "reports": rate.reports, "assignments": rate.assignments,
            "window": rate.window, "max_percent": rate.max_percent, "over_cap": rate.over_cap}


def report_rate_at_filing(report: BadLeadReport) -> ReturnRate:
    """The return rate recorded when the report was filed (never a silent denial: the provider sees it)."""
    current = return_rate_for_provider(provider_id=report.provider_id) if report.return_rate_reports is None else None
    return ReturnRate(
        reports=report.return_rate_reports if current is None else current.reports,
        assignments=report.return_rate_assignments if current is None else current.assignments,
        window=int(settings.HOTLEAD.get("RETURN_RATE_WINDOW", 50)),
        max_percent=int(settings.HOTLEAD.get("RETURN_RATE_MAX_PERCENT", 20)),
    )


def report_outcome_message(report: BadLeadReport, rate: ReturnRate) -> str:
    if report.status == ReportStatus.APPROVED and report.refund_entry_id:
        how = f"Approved automatically: {report.get_auto_rule_display()}. " if report.auto_rule else "Approved. "
        return f"{how}{money_format(report.refund_entry.amount_cents)} is refunded to your balance."
    if report.status == ReportStatus.REJECTED:
        return f"Rejected: {report.decision_note}"
    if report.matched_rule:
        return (
            f"This lead matches the automatic rule “{report.get_matched_rule_display()}”, but your return rate is "
            f"{rate.percent}% ({rate.reports} reports on your last {rate.window} assignments), above the "
            f"{rate.max_percent}% maximum, so our team reviews this report by hand. We e-mail you the decision."
        )
    return "Our team reviews your report and e-mails you the decision."


def report_outcome(report: BadLeadReport) -> dict:
    """The provider's view of a report just filed: its status, the rule, the return rate, what happens next."""
    rate = report_rate_at_filing(report)
    return {
        "id": report.pk,
        "assignment_id": report.assignment_id,
        "status": report.status,
        "reason": report.reason,
        "matched_rule": report.matched_rule or None,
        "auto_rule": report.auto_rule or None,
        "refund_cents": report.refund_entry.amount_cents if report.refund_entry_id else None,
        "return_rate": rate_as_dict(rate),
        "message": report_outcome_message(report, rate),
    }
