"""Row locks of bad-lead reports and auto-approval rules; their place in the global order: hotlead.core.locks."""
from __future__ import annotations

from hotlead.core.locks import lock_taken
from hotlead.distribution.models import Assignment
from hotlead.refunds.enums import ReportStatus
from hotlead.refunds.models import AutoApprovalRule, BadLeadReport


def report_lock(*, report_id: int) -> BadLeadReport:
    """The report with its provider's user, locked (its own row only), under its assignment's lock."""
    lock_taken("bad_lead_report", report_id)
    return BadLeadReport.objects.select_for_update(of=("self",)).select_related("provider__user").get(pk=report_id)


def reports_pending_lock(*, assignments: list[Assignment]) -> dict[int, BadLeadReport]:
    """The pending report of each assignment that has one (assignment id → report), locked, under the
    assignments' locks and before any account lock."""
    lock_taken("bad_lead_report")
    reports = (BadLeadReport.objects.select_for_update(of=("self",)).select_related("provider__user")
               .filter(assignment__in=assignments, status=ReportStatus.PENDING).order_by("id"))
    return {report.assignment_id: report for report in reports}


def auto_rule_lock_or_create(*, code: str) -> tuple[AutoApprovalRule, bool]:
    lock_taken("auto_approval_rule", code)
    return AutoApprovalRule.objects.select_for_update().get_or_create(code=code)
