"""Bad-lead reports, their review, refunds and fraud (SPEC §6).

Money moves only through `billing.services.refund_post` (one refund per charge, by constraint).
Lock order, everywhere: (provider, for a new report) → lead → assignment(s) → report → account (inside
refund_post), as in hotlead.core.locks. Every lock is `FOR UPDATE OF` the row itself, so a join never locks a row
out of that order.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from uuid import UUID

from django.db import IntegrityError, transaction
from django.utils import timezone

from hotlead.billing.models import LedgerEntry
from hotlead.billing.services.ledger import refund_post
from hotlead.core.exceptions import ApplicationError, Conflict, NotFound, ValidationFailed
from hotlead.core.money import money_format
from hotlead.core.services import audit_record
from hotlead.distribution.enums import AssignmentStatus
from hotlead.distribution.lock_objects import assignment_lock, lead_assignments_lock
from hotlead.distribution.models import Assignment
from hotlead.distribution.services.assignments import assignment_refunded_set, assignment_reject
from hotlead.leads.models import Lead
from hotlead.leads.services.lifecycle import lead_fraud_set
from hotlead.notifications.services import email_queue
from hotlead.providers.lock_objects import provider_reports_lock
from hotlead.providers.models import Provider
from hotlead.providers.services import provider_flag
from hotlead.refunds import selectors
from hotlead.refunds.enums import AutoRule, BadLeadReason, ReportStatus
from hotlead.refunds.exceptions import ReportWindowClosed
from hotlead.refunds.lock_objects import auto_rule_lock_or_create, report_lock, reports_pending_lock
from hotlead.refunds.metrics import BAD_LEADS_REPORTED, REFUNDED_CENTS, REFUNDS_APPROVED
from hotlead.refunds.models import AutoApprovalRule, BadLeadReport
from hotlead.webhooks.enums import EventType
from hotlead.webhooks.services import webhook_event_emit

if TYPE_CHECKING:
    from hotlead.accounts.models import User

DETAILS_MAX_LENGTH = 5000
NOTE_MAX_LENGTH = 2000

# how a refund was decided, as counted in the metrics
DECIDED_BY_STAFF = "staff"
DECIDED_BY_AUTO = "auto"
DECIDED_BY_FRAUD = "fraud"


def _count_after_commit(*, reported_reason: str | None = None, refund_cents: int | None = None,
                        decided_by: str = "") -> None:
    def _inc() -> None:
        if reported_reason:
            BAD_LEADS_REPORTED.labels(reason=reported_reason).inc()
        if refund_cents is not None:
            REFUNDS_APPROVED.labels(decided_by=decided_by).inc()
            REFUNDED_CENTS.labels(decided_by=decided_by).inc(refund_cents)

    transaction.on_commit(_inc)


def _lock_assignment(*, assignment_id: int, provider_id: int | None = None) -> Assignment:
    assignment = assignment_lock(assignment_id=assignment_id, provider_id=provider_id, with_money=True) \
        if 0 < assignment_id <= selectors.MAX_DB_ID else None
    if assignment is None:
        raise NotFound("No such lead in your inbox." if provider_id is not None else "No such assignment.")
    return assignment


def _lock_report_for_decision(*, report_id: int) -> tuple[BadLeadReport, Assignment]:
    """Lock the report's assignment, then the report itself; the report must still be pending."""
    assignment_id = (
        BadLeadReport.objects.filter(pk=report_id).values_list("assignment_id", flat=True).first()
        if 0 < report_id <= selectors.MAX_DB_ID else None
    )
    if assignment_id is None:
        raise NotFound("No such bad-lead report.")
    assignment = _lock_assignment(assignment_id=assignment_id)
    report = report_lock(report_id=report_id)
    if report.status != ReportStatus.PENDING:
        raise Conflict(
            f"This report was already {report.get_status_display().lower()}; it cannot be decided again.",
            details={"status": report.status},
        )
    return report, assignment


def _assignment_refund(*, assignment: Assignment, actor: User | None, decided_by: str, memo: str,
                       related: BadLeadReport | Lead) -> tuple[LedgerEntry, bool]:
    """Return the charged amount once; the assignment (locked by the caller) becomes `refunded`.

    refund_post also re-matches the provider's subscriptions to the new balance (subscriptions_sync_funds),
    in this transaction: the ones the refund covers are active again when it commits.
    """
    if assignment.status == AssignmentStatus.REFUNDED:
        return LedgerEntry.objects.get(refund_of_id=assignment.charge_entry_id), False
    entry = refund_post(charge=assignment.charge_entry, actor=actor, memo=memo,
                        related_type=related._meta.label_lower, related_id=related.pk)
    assignment_refunded_set(assignment=assignment)
    provider = Provider.objects.select_related("user").get(pk=assignment.provider_id)
    email_queue(
        template="refund_issued",
        to=provider.user.email,
        context={
            "company_name": provider.company_name,
            "assignment_id": assignment.pk,
            "category": assignment.category.name,
            "postal_code": assignment.lead.postal_code,
            "amount_cents": entry.amount_cents,
            "amount": money_format(entry.amount_cents),
            "balance": money_format(entry.balance_after_cents),
            "reason": memo,
        },
        related=entry,
        dedupe_key=f"refund_issued:{entry.pk}",
    )
    _count_after_commit(refund_cents=entry.amount_cents, decided_by=decided_by)
    _refunded_webhook(assignment=assignment, entry=entry, reason=memo)
    return entry, True


def _refunded_webhook(*, assignment: Assignment, entry: LedgerEntry, reason: str) -> None:
    webhook_event_emit(
        provider_id=assignment.provider_id, type=EventType.LEAD_REFUNDED, dedupe_key=f"lead.refunded:{entry.pk}",
        data={"assignment_id": assignment.pk, "lead_id": str(assignment.lead.public_id),
              "amount_cents": entry.amount_cents, "balance_after_cents": entry.balance_after_cents,
              "refunded_at": assignment.refunded_at, "reason": reason},
    )


def _decision_email(*, report: BadLeadReport, assignment: Assignment) -> None:
    provider = report.provider
    email_queue(
        template="bad_lead_decision",
        to=provider.user.email,
        context={
            "company_name": provider.company_name,
            "report_id": report.pk,
            "assignment_id": assignment.pk,
            "category": assignment.category.name,
            "postal_code": assignment.lead.postal_code,
            "reason": report.get_reason_display(),
            "status": report.status,
            "note": report.decision_note,
            "auto_rule": report.get_auto_rule_display() if report.auto_rule else "",
            "refund": money_format(report.refund_entry.amount_cents) if report.refund_entry_id else "",
        },
        related=report,
        dedupe_key=f"bad_lead_decision:{report.pk}",
    )


def _report_close_approved(*, report: BadLeadReport, assignment: Assignment, actor: User | None, note: str,
                           decided_by: str, auto_rule: str = "", audit_actor: User | None = None) -> LedgerEntry:
    entry, _ = _assignment_refund(assignment=assignment, actor=actor, decided_by=decided_by,
                                  memo=f"Refund for bad-lead report #{report.pk}", related=report)
    report.status = ReportStatus.APPROVED
    report.decided_by = actor if getattr(actor, "pk", None) else None
    report.decided_at = timezone.now()
    report.decision_note = note
    report.auto_rule = auto_rule
    report.refund_entry = entry
    report.save(update_fields=["status", "decided_by", "decided_at", "decision_note", "auto_rule", "refund_entry"])
    audit_record(
        action="bad_lead.auto_approve" if auto_rule else "bad_lead.approve",
        actor=audit_actor or actor, obj=report,
        changes={"status": [ReportStatus.PENDING, ReportStatus.APPROVED], "refund_cents": entry.amount_cents,
                 "refund_entry": entry.pk, "assignment": assignment.pk, "note": note,
                 **({"auto_rule": auto_rule} if auto_rule else {})},
    )
    _decision_email(report=report, assignment=assignment)
    return entry


def _provider_flag(*, provider_id: int, rate: selectors.ReturnRate, report: BadLeadReport) -> None:
    reason = (f"Return rate {rate.percent}% ({rate.reports} reports on the last {rate.window} assignments) "
              f"exceeds {rate.max_percent}%")
    # the provider's own report tipped the rate: the entry names them, as for the report itself
    provider_flag(provider=report.provider, reason=reason, replace_reason=True, actor=report.provider.user,
                  details={"report": report.pk})


# --- reporting -------------------------------------------------------------------------------


def _clean_report_input(*, reason: str, details: str) -> tuple[str, str]:
    if reason not in BadLeadReason.values:
        raise ValidationFailed.for_field("reason", f"Choose one of: {', '.join(BadLeadReason.values)}.")
    details = (details or "").strip()
    if len(details) > DETAILS_MAX_LENGTH:
        raise ValidationFailed.for_field("details", f"At most {DETAILS_MAX_LENGTH} characters.")
    if reason == BadLeadReason.OTHER and not details:
        raise ValidationFailed.for_field("details", "Describe what is wrong with this lead.")
    return reason, details


@transaction.atomic
def report_create(*, provider: Provider, assignment_id: int, reason: str, details: str = "") -> BadLeadReport:
    """File a report within the window; an objective rule approves and refunds it at once (unless capped)."""
    reason, details = _clean_report_input(reason=reason, details=details)
    # One report at a time per provider: the return rate below must count the reports filed concurrently,
    # or a burst of reports would each see the rate before the others and all be auto-approved past the cap.
    # NO KEY UPDATE does not block inserts that merely reference the provider (assignments, ledger entries).
    provider_reports_lock(provider_id=provider.pk)
    assignment = _lock_assignment(assignment_id=assignment_id, provider_id=provider.pk)
    if assignment.status in (AssignmentStatus.REJECTED, AssignmentStatus.REFUNDED):
        raise Conflict(
            f"This lead is {assignment.get_status_display().lower()}; it cannot be reported.",
            details={"status": assignment.status},
        )
    if BadLeadReport.objects.filter(assignment_id=assignment.pk).exists():
        raise Conflict("This lead has already been reported.", details={"assignment_id": assignment.pk})
    now = timezone.now()
    closes_at = selectors.report_window_closes_at(assigned_at=assignment.assigned_at)
    if not selectors.report_window_open(assigned_at=assignment.assigned_at, now=now):
        raise ReportWindowClosed(
            f"Bad leads can be reported within {selectors.report_window_days()} days of delivery.",
            details={"window_closed_at": closes_at.isoformat()},
        )
    try:
        with transaction.atomic():
            report = BadLeadReport.objects.create(assignment=assignment, provider=provider, reason=reason,
                                                  details=details)
    except IntegrityError:  # the one-per-assignment constraint: another request won
        raise Conflict("This lead has already been reported.", details={"assignment_id": assignment.pk}) from None

    rate = selectors.return_rate_for_provider(provider_id=provider.pk)
    rule = selectors.assignment_matching_rule(assignment=assignment, enabled=selectors.auto_rules_enabled())
    report.matched_rule = rule
    report.return_rate_percent = rate.percent
    report.return_rate_reports = rate.reports
    report.return_rate_assignments = rate.assignments
    report.save(update_fields=["matched_rule", "return_rate_percent", "return_rate_reports",
                               "return_rate_assignments"])
    audit_record(
        action="bad_lead.report", actor=provider.user, obj=report,
        changes={"assignment": assignment.pk, "reason": reason, "matched_rule": rule,
                 "return_rate_percent": str(rate.percent), "over_cap": rate.over_cap},
    )
    _count_after_commit(reported_reason=reason)
    if rate.over_cap:
        _provider_flag(provider_id=provider.pk, rate=rate, report=report)
    if rule and not rate.over_cap:
        # decided by a rule (no staff decider), set off by the provider's report: the entry names the provider
        _report_close_approved(report=report, assignment=assignment, actor=None, decided_by=DECIDED_BY_AUTO,
                               note=f"Approved automatically: {AutoRule(rule).label}.", auto_rule=rule,
                               audit_actor=provider.user)
    return report


@transaction.atomic
def assignment_reject_and_report(*, provider: Provider, assignment_id: int, reject_reason: str, report_reason: str,
                                 details: str = "") -> BadLeadReport:
    """Reject a bought lead AND report it as bad, in one step (a bogus lead is what a buyer rejects).

    The report is filed first (a rejected lead can no longer be reported); when an objective rule refunds it at
    once, the assignment is already settled as refunded and is not rejected on top. Either both happen or neither.
    """
    reject_reason = (reject_reason or "").strip()
    if not reject_reason:
        raise ValidationFailed.for_field("reason", "Say why you reject this lead.")
    report = report_create(provider=provider, assignment_id=assignment_id, reason=report_reason, details=details)
    if not Assignment.objects.filter(pk=assignment_id, status=AssignmentStatus.REFUNDED).exists():
        assignment_reject(provider=provider, assignment_id=assignment_id, reason=reject_reason)
    return report


# --- review ------------------------------------------------------------------------------------


@transaction.atomic
def report_approve(*, report_id: int, actor: User | None, note: str = "") -> BadLeadReport:
    """pending → approved: refund exactly the charged amount, once. Anything else is a 409 and moves no money."""
    note = (note or "").strip()
    if len(note) > NOTE_MAX_LENGTH:
        raise ValidationFailed.for_field("note", f"At most {NOTE_MAX_LENGTH} characters.")
    report, assignment = _lock_report_for_decision(report_id=report_id)
    _report_close_approved(report=report, assignment=assignment, actor=actor, note=note,
                           decided_by=DECIDED_BY_STAFF)
    return report


@transaction.atomic
def report_reject(*, report_id: int, actor: User | None, note: str) -> BadLeadReport:
    """pending → rejected with a note the provider reads. No money moves."""
    note = (note or "").strip()
    if not note:
        raise ValidationFailed.for_field("note", "Tell the provider why the report is rejected.")
    if len(note) > NOTE_MAX_LENGTH:
        raise ValidationFailed.for_field("note", f"At most {NOTE_MAX_LENGTH} characters.")
    report, assignment = _lock_report_for_decision(report_id=report_id)
    report.status = ReportStatus.REJECTED
    report.decided_by = actor
    report.decided_at = timezone.now()
    report.decision_note = note
    report.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    audit_record(
        action="bad_lead.reject", actor=actor, obj=report,
        changes={"status": [ReportStatus.PENDING, ReportStatus.REJECTED], "note": note,
                 "assignment": assignment.pk},
    )
    _decision_email(report=report, assignment=assignment)
    return report


@dataclass
class BulkOutcome:
    done: list[int] = field(default_factory=list)
    refused: dict[int, str] = field(default_factory=dict)


def reports_decide(*, report_ids: list[int], approve: bool, actor: User | None, note: str = "") -> BulkOutcome:
    """Decide several reports, each in its own transaction: one refused report does not undo the others."""
    outcome = BulkOutcome()
    for report_id in sorted(set(report_ids)):
        try:
            if approve:
                report_approve(report_id=report_id, actor=actor, note=note)
            else:
                report_reject(report_id=report_id, actor=actor, note=note)
        except ApplicationError as exc:
            outcome.refused[report_id] = exc.message
        else:
            outcome.done.append(report_id)
    return outcome


# --- fraud ---------------------------------------------------------------------------------------


@dataclass
class FraudOutcome:
    lead: Lead
    newly_marked: bool
    refunds: list[dict] = field(default_factory=list)  # issued by this call: {assignment_id, provider_id, cents}
    reports_closed: list[int] = field(default_factory=list)


@transaction.atomic
def lead_mark_fraud(*, lead_public_id: UUID | str, actor: User | None) -> FraudOutcome:
    """Mark a lead fraudulent: every buyer is refunded once, open reports close as approved. Idempotent."""
    lead, newly_marked = lead_fraud_set(lead_public_id=lead_public_id)
    outcome = FraudOutcome(lead=lead, newly_marked=newly_marked)
    # Accounts are locked in provider order, so two fraud runs over overlapping buyers cannot deadlock; the
    # open reports are locked before any account (the lock order: assignment → report → account).
    assignments = lead_assignments_lock(lead=lead)
    pending = reports_pending_lock(assignments=assignments)
    for assignment in assignments:
        entry, created = _assignment_refund(assignment=assignment, actor=actor, decided_by=DECIDED_BY_FRAUD,
                                            memo="Refund: the lead was marked fraudulent", related=lead)
        if created:
            outcome.refunds.append({"assignment_id": assignment.pk, "provider_id": assignment.provider_id,
                                    "refund_cents": entry.amount_cents})
        report = pending.get(assignment.pk)
        if report is not None:
            report.status = ReportStatus.APPROVED
            report.decided_by = actor if getattr(actor, "pk", None) else None
            report.decided_at = timezone.now()
            report.decision_note = "The lead was marked fraudulent; the charge is refunded."
            report.refund_entry = entry
            report.save(update_fields=["status", "decided_by", "decided_at", "decision_note", "refund_entry"])
            _decision_email(report=report, assignment=assignment)
            outcome.reports_closed.append(report.pk)
    audit_record(
        action="lead.mark_fraud", actor=actor, obj=lead,
        changes={"newly_marked": outcome.newly_marked, "refunds": outcome.refunds,
                 "reports_closed": outcome.reports_closed},
    )
    return outcome


# --- rules ---------------------------------------------------------------------------------------


@transaction.atomic
def auto_rule_set_enabled(*, code: str, enabled: bool, actor: User | None) -> AutoApprovalRule:
    if code not in AutoRule.values:
        raise ValidationFailed.for_field("code", f"Choose one of: {', '.join(AutoRule.values)}.")
    rule, _ = auto_rule_lock_or_create(code=code)
    if rule.enabled != enabled:
        before = rule.enabled
        rule.enabled = enabled
        rule.save(update_fields=["enabled", "updated_at"])
        audit_record(action="auto_rule.switch", actor=actor, obj=rule,
                     changes={"enabled": [before, enabled]})
    return rule
