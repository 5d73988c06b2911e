"""The provider's leads: inbox, lead page, accept/reject and KPIs (SPEC §7, §13). Thin: one call each.

Domain modules are imported inside the views: `api` is an installed app, so this module loads while
the app registry is still being populated, before any model can be imported.
"""
from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Router

from api.auth import provider_auth
from api.schemas.provider_leads import (
    AssignmentRejectIn,
    AssignmentStatusOut,
    InboxOut,
    InboxQuery,
    ProviderKpiOut,
    ProviderKpiQuery,
    ProviderLeadDetailOut,
)
from hotlead.distribution.selectors.buyer_view import assignment_buyer_view
from hotlead.distribution.selectors.inbox import (
    assignment_get_for_provider,
    category_id_for_slug,
    day_bounds,
    inbox_cursor_decode,
    inbox_for_provider,
)
from hotlead.distribution.selectors.kpis import provider_kpis
from hotlead.distribution.services.assignments import assignment_accept, assignment_reject
from hotlead.portal.metrics import INBOX_QUERY_DURATION
from reports.cache import cached_report

router = Router(auth=provider_auth)


@router.get("/inbox", response=InboxOut, summary="The provider's assignments, newest first (keyset pagination)")
def inbox(request: HttpRequest, filters: Query[InboxQuery]):
    provider = request.auth
    assigned_from, assigned_before = day_bounds(
        tz_name=provider.timezone, date_from=filters.date_from, date_to=filters.date_to
    )
    category_id = category_id_for_slug(filters.category) if filters.category else None
    cursor = inbox_cursor_decode(filters.cursor) if filters.cursor else None
    with INBOX_QUERY_DURATION.labels(surface="api").time():
        return inbox_for_provider(
            provider_id=provider.pk, status=filters.status, category_id=category_id,
            assigned_from=assigned_from, assigned_before=assigned_before, cursor=cursor, limit=filters.limit,
        )


@router.get("/leads/{assignment_id}", response=ProviderLeadDetailOut, summary="A bought lead with its contact data")
def lead_detail(request: HttpRequest, assignment_id: int):
    assignment = assignment_get_for_provider(provider_id=request.auth.pk, assignment_id=assignment_id)
    return assignment_buyer_view(assignment)


@router.post("/leads/{assignment_id}/accept", response=AssignmentStatusOut, summary="Accept a new lead")
def lead_accept(request: HttpRequest, assignment_id: int):
    assignment = assignment_accept(provider=request.auth, assignment_id=assignment_id)
    return {"assignment_id": assignment.pk, "status": assignment.status}


@router.post("/leads/{assignment_id}/reject", response=AssignmentStatusOut,
             summary="Reject a new lead with a reason (no refund: report a bad lead for that)")
def lead_reject(request: HttpRequest, assignment_id: int, payload: AssignmentRejectIn):
    assignment = assignment_reject(
        provider=request.auth, assignment_id=assignment_id, reason=payload.reason
    )
    return {"assignment_id": assignment.pk, "status": assignment.status}


@router.get("/reports/kpis", response=ProviderKpiOut, summary="The provider's own KPIs by day, week or month")
def kpis(request: HttpRequest, filters: Query[ProviderKpiQuery]):
    provider = request.auth
    params = {"period": filters.period, "from": filters.date_from, "to": filters.date_to, "tz": provider.timezone}
    report = cached_report(  # keyed by the provider: never another provider's figures
        audience=f"provider:{provider.pk}", report="provider_kpis", params=params,
        compute=lambda: provider_kpis(provider_id=provider.pk, tz_name=provider.timezone, period=filters.period,
                                      date_from=filters.date_from, date_to=filters.date_to),
    )
    return {
        "period": report.period,
        "date_from": report.date_from,
        "date_to": report.date_to,
        "timezone": report.timezone,
        "totals": report.totals,
        "series": [{"period_start": b.period_start, **b.figures.__dict__} for b in report.series],
    }
