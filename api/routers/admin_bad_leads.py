"""Staff review of bad-lead reports, and marking a lead fraudulent (SPEC §6, §8.1). Thin: one call each.

Domain modules are imported inside the views: this module loads before the app registry is ready.
"""
from __future__ import annotations

import uuid

from django.http import HttpRequest
from ninja import Body, Query, Router

from api.auth import staff_auth
from api.schemas.refunds import (
    ApproveIn,
    ApproveOut,
    MarkFraudOut,
    RejectIn,
    RejectOut,
    ReportDetailOut,
    ReportListOut,
    ReportListQuery,
)
from hotlead.refunds.selectors import rate_as_dict, report_get, report_list, return_rate_for_provider
from hotlead.refunds.services import lead_mark_fraud as mark_fraud
from hotlead.refunds.services import report_approve, report_reject

router = Router(auth=staff_auth)


def _item(report) -> dict:
    assignment = report.assignment
    return {
        "id": report.pk,
        "assignment_id": assignment.pk,
        "lead_id": assignment.lead.public_id,
        "provider_id": report.provider_id,
        "provider_name": report.provider.company_name,
        "reason": report.reason,
        "details": report.details,
        "status": report.status,
        "price_cents": assignment.price_cents,
        "created_at": report.created_at,
        "decided_at": report.decided_at,
        "matched_rule": report.matched_rule or None,
        "auto_rule": report.auto_rule or None,
        "return_rate_percent_at_report": report.return_rate_percent,
        "refund_cents": report.refund_entry.amount_cents if report.refund_entry_id else None,
    }


@router.get("/bad-leads", response=ReportListOut, summary="Bad-lead reports, newest first (keyset pagination)")
def bad_lead_list(request: HttpRequest, filters: Query[ReportListQuery]):
    rows, next_cursor = report_list(
        status=filters.status, reason=filters.reason, provider_id=filters.provider_id,
        min_age_hours=filters.min_age_hours, max_age_hours=filters.max_age_hours, cursor=filters.cursor,
        limit=filters.limit,
    )
    return {"items": [_item(report) for report in rows], "next_cursor": next_cursor}


@router.get("/bad-leads/{report_id}", response=ReportDetailOut, summary="One report with the lead's signals")
def bad_lead_detail(request: HttpRequest, report_id: int):
    report = report_get(report_id=report_id)
    assignment, lead = report.assignment, report.assignment.lead
    return {
        **_item(report),
        "decision_note": report.decision_note,
        "decided_by": report.decided_by.email if report.decided_by_id else None,
        "lead": {"category": assignment.category.name, "postal_code": lead.postal_code,
                 "email_bounced": lead.email_bounced, "phone_valid": lead.phone_valid, "is_fraud": lead.is_fraud},
        "assignment": {"status": assignment.status, "level": assignment.level.slug,
                       "assigned_at": assignment.assigned_at, "in_area_at_sale": assignment.in_area_at_sale},
        "provider_return_rate": rate_as_dict(return_rate_for_provider(provider_id=report.provider_id)),
    }


@router.post("/bad-leads/{report_id}/approve", response=ApproveOut, summary="Approve: refund the charge once")
def bad_lead_approve(request: HttpRequest, report_id: int, payload: Body[ApproveIn | None] = None):
    report = report_approve(report_id=report_id, actor=request.auth, note=payload.note if payload else "")
    return {"id": report.pk, "status": report.status, "refund_cents": report.refund_entry.amount_cents}


@router.post("/bad-leads/{report_id}/reject", response=RejectOut, summary="Reject with a note for the provider")
def bad_lead_reject(request: HttpRequest, report_id: int, payload: RejectIn):
    report = report_reject(report_id=report_id, actor=request.auth, note=payload.note)
    return {"id": report.pk, "status": report.status, "note": report.decision_note}


@router.post("/leads/{lead_id}/mark-fraud", response=MarkFraudOut,
             summary="Mark a lead fraudulent: refund every buyer once, close open reports (idempotent)")
def lead_mark_fraud(request: HttpRequest, lead_id: uuid.UUID):
    outcome = mark_fraud(lead_public_id=lead_id, actor=request.auth)
    return {
        "id": outcome.lead.public_id,
        "is_fraud": outcome.lead.is_fraud,
        "newly_marked": outcome.newly_marked,
        "refunds": outcome.refunds,
        "refunded_cents": sum(row["refund_cents"] for row in outcome.refunds),
        "reports_closed": outcome.reports_closed,
    }
