"""Admin API of lead sources (SPEC §8.2): list, create (the key is in the answer, once), rotate, revoke."""
from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Router, Status

from api.auth import staff_auth
from api.schemas.sources import LeadSourceIn, LeadSourceKeyOut, LeadSourceOut, LeadSourcePageOut, LeadSourceQuery
from hotlead.sources.selectors import lead_sources_page
from hotlead.sources.services import lead_source_create as create
from hotlead.sources.services import lead_source_revoke as revoke
from hotlead.sources.services import lead_source_rotate_key as rotate

router = Router(auth=staff_auth)


def _out(source, leads_count: int | None = None) -> dict:
    return {
        "id": source.pk, "name": source.name, "contact": source.contact, "notes": source.notes,
        "verified_upstream": source.verified_upstream, "rate_limit": source.rate_limit,
        "key_prefix": source.key_prefix, "active": source.revoked_at is None, "revoked_at": source.revoked_at,
        "key_rotated_at": source.key_rotated_at, "created_at": source.created_at,
        "leads_count": leads_count if leads_count is not None else getattr(source, "leads_count", 0),
    }


def _with_count(source) -> dict:
    return _out(source, source.leads.count())


@router.get("/lead-sources", response=LeadSourcePageOut, summary="Lead sources, by id (cursor pages)")
def lead_source_list(request: HttpRequest, filters: Query[LeadSourceQuery]):
    page, next_cursor = lead_sources_page(cursor=filters.cursor, limit=filters.limit)
    return {"items": [_out(s) for s in page], "next_cursor": next_cursor}


@router.post("/lead-sources", response={201: LeadSourceKeyOut},
             summary="Create a lead source; the answer carries its API key, shown once")
def lead_source_create(request: HttpRequest, payload: LeadSourceIn):
    source, key = create(name=payload.name, contact=payload.contact, notes=payload.notes,
                         verified_upstream=payload.verified_upstream, rate_limit=payload.rate_limit,
                         actor=request.auth)
    return Status(201, {**_out(source, 0), "api_key": key})


@router.post("/lead-sources/{source_id}/rotate-key", response=LeadSourceKeyOut,
             summary="A new API key (shown once); the old one stops working at once")
def lead_source_rotate_key(request: HttpRequest, source_id: int):
    source, key = rotate(source_id=source_id, actor=request.auth)
    return {**_with_count(source), "api_key": key}


@router.post("/lead-sources/{source_id}/revoke", response=LeadSourceOut,
             summary="Revoke the source's key for good (idempotent); its leads keep their source")
def lead_source_revoke(request: HttpRequest, source_id: int):
    return _with_count(revoke(source_id=source_id, actor=request.auth))
