"""Admin API for lead review and categories (SPEC §8.1, §13). Staff with MFA only; ids are lead UUIDs.

Domain modules are imported inside the views: `api` is an installed app, so this module loads while
the app registry is still being populated.
"""
from __future__ import annotations

import uuid

from django.http import HttpRequest
from ninja import Query, Router, Status

from api.auth import staff_auth
from api.schemas.leads import (
    AdminApproveIn,
    AdminCategoryCreateIn,
    AdminCategoryOut,
    AdminCategoryUpdateIn,
    AdminDecisionOut,
    AdminLeadDetailOut,
    AdminLeadPageOut,
    AdminLeadQuery,
    AdminRejectIn,
)
from hotlead.distribution.selectors.lead_detail import lead_admin_detail
from hotlead.leads.selectors import categories_all, lead_by_public_id, leads_for_review
from hotlead.leads.services.categories import category_create as create
from hotlead.leads.services.categories import category_update as update
from hotlead.leads.services.lifecycle import lead_approve as approve
from hotlead.leads.services.lifecycle import lead_reject as reject

router = Router(auth=staff_auth)


def _row(lead) -> dict:
    return {
        "id": lead.public_id, "status": lead.status, "name": lead.name, "email": lead.email, "phone": lead.phone,
        "postal_code": lead.postal_code, "category": lead.category.slug, "source": lead.source,
        "possible_duplicate": lead.possible_duplicate,
        "duplicate_of": lead.duplicate_of.public_id if lead.duplicate_of else None, "created_at": lead.created_at,
    }


@router.get("/leads", response=AdminLeadPageOut, summary="The review queue: filters, newest first, cursor pages")
def leads_list(request: HttpRequest, filters: Query[AdminLeadQuery]):
    page = leads_for_review(
        status=filters.status, category=filters.category, possible_duplicate=filters.possible_duplicate,
        created_from=filters.created_from, created_to=filters.created_to, q=filters.q, cursor=filters.cursor,
        limit=filters.limit,
    )
    return {"items": [_row(lead) for lead in page.items], "next_cursor": page.next_cursor}


@router.get("/leads/{lead_id}", response=AdminLeadDetailOut,
            summary="One lead with its history, assignments and distribution traces")
def lead_detail(request: HttpRequest, lead_id: uuid.UUID):
    return lead_admin_detail(public_id=lead_id)


@router.post("/leads/{lead_id}/approve", response=AdminDecisionOut, summary="Approve a lead; distribution is queued")
def lead_approve(request: HttpRequest, lead_id: uuid.UUID, payload: AdminApproveIn | None = None):
    lead = approve(lead_id=lead_by_public_id(public_id=lead_id).pk, actor=request.auth,
                   note=payload.note if payload else "")
    return {"id": lead.public_id, "status": lead.status}


@router.post("/leads/{lead_id}/reject", response=AdminDecisionOut, summary="Reject a lead with a reason")
def lead_reject(request: HttpRequest, lead_id: uuid.UUID, payload: AdminRejectIn):
    lead = reject(lead_id=lead_by_public_id(public_id=lead_id).pk, actor=request.auth, reason=payload.reason,
                  note=payload.note or "")
    return {"id": lead.public_id, "status": lead.status}


@router.get("/categories", response=list[AdminCategoryOut], summary="Every category, active or not")
def categories_list(request: HttpRequest):
    return list(categories_all())


@router.post("/categories", response={201: AdminCategoryOut}, summary="Create a category")
def category_create(request: HttpRequest, payload: AdminCategoryCreateIn):
    category = create(slug=payload.slug, name=payload.name, active=payload.active, actor=request.auth)
    return Status(201, category)


@router.put("/categories/{slug}", response=AdminCategoryOut, summary="Rename, activate or deactivate a category")
def category_update(request: HttpRequest, slug: str, payload: AdminCategoryUpdateIn):
    return update(slug=slug, name=payload.name, active=payload.active, actor=request.auth)
