"""The provider reports a bought lead as bad (SPEC §6, §13). Thin: one service call.

Domain modules are imported inside the view: this module loads before the app registry is ready.
"""
from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Status

from api.auth import provider_auth
from api.schemas.refunds import BadLeadCreatedOut, BadLeadIn
from hotlead.refunds.selectors import report_outcome
from hotlead.refunds.services import report_create

router = Router(auth=provider_auth)


@router.post(
    "/leads/{assignment_id}/bad-lead",
    response={201: BadLeadCreatedOut},
    summary="Report a bought lead as bad (within the window; one report per lead)",
)
def bad_lead_report(request: HttpRequest, assignment_id: int, payload: BadLeadIn):
    report = report_create(provider=request.auth, assignment_id=assignment_id, reason=payload.reason,
                           details=payload.details)
    return Status(201, report_outcome(report))
