"""Public lead intake (SPEC §3, §13): submit, verify, confirm, resend the code, list categories.

No authentication and no cookies: these endpoints carry no ambient authority, so ninja's CSRF check
(off for non-cookie auth) stays off — a cross-site page could only do what any HTTP client can do,
and that is bounded by the per-IP and per-lead rate limits.

Domain modules are imported inside the views: `api` is an installed app, so this module loads while
the app registry is still being populated.
"""
from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Status

from api.schemas.leads import (
    CategoryOut,
    LeadConfirmIn,
    LeadConfirmOut,
    LeadResendIn,
    LeadResendOut,
    LeadSubmitIn,
    LeadSubmitOut,
    LeadVerifyIn,
    LeadVerifyOut,
)
from hotlead.core.middleware import client_ip
from hotlead.leads.selectors import categories_active
from hotlead.leads.services.intake import lead_code_resend
from hotlead.leads.services.intake import lead_confirm as confirm
from hotlead.leads.services.intake import lead_submit as submit
from hotlead.leads.services.intake import lead_verify as verify
from hotlead.leads.validation import LeadSubmission
from hotlead.sources.services import lead_source_authenticate

router = Router()


API_KEY_PARAMETER = {
    "in": "header", "name": "X-Api-Key", "required": False, "schema": {"type": "string", "maxLength": 100},
    "description": "A lead source's API key (partners posting server to server, SPEC §8.2): the lead records the "
                   "source and counts against the source's own rate limit instead of the per-IP one; a source "
                   "verified upstream skips e-mail verification (the lead goes straight to review). An unknown "
                   "or revoked key is a 401.",
}


@router.post("/leads", response={202: LeadSubmitOut}, summary="Submit a service request; a code is e-mailed",
             openapi_extra={"parameters": [API_KEY_PARAMETER]})
def lead_submit(request: HttpRequest, payload: LeadSubmitIn):
    api_key = request.headers.get("X-Api-Key")
    lead = submit(
        submission=LeadSubmission(**payload.dict()),
        ip=client_ip(request),
        user_agent=request.headers.get("User-Agent", ""),
        api_client=request.headers.get("X-Api-Client", ""),
        lead_source=lead_source_authenticate(key=api_key) if api_key is not None else None,
    )
    return Status(202, {"id": lead.public_id, "reference": lead.reference, "status": lead.status})


@router.post("/leads/verify", response=LeadVerifyOut, summary="Check the e-mailed code (or link token)")
def lead_verify(request: HttpRequest, payload: LeadVerifyIn):
    lead, confirm_token = verify(public_id=payload.lead_id, code=payload.code, token=payload.token,
                                 ip=client_ip(request))
    return {
        "id": lead.public_id,
        "reference": lead.reference,
        "status": lead.status,
        "confirm_token": confirm_token,
        "lead": {
            "name": lead.name, "email": lead.email, "phone": lead.phone, "postal_code": lead.postal_code,
            "category": lead.category.slug, "category_name": lead.category.name,
            "description": lead.description, "budget_cents": lead.budget_cents, "timeline": lead.timeline,
        },
    }


@router.post("/leads/confirm", response=LeadConfirmOut, summary="Confirm a verified request; it goes to review")
def lead_confirm(request: HttpRequest, payload: LeadConfirmIn):
    lead = confirm(public_id=payload.lead_id, confirm_token=payload.confirm_token)
    return {"id": lead.public_id, "reference": lead.reference, "status": lead.status}


@router.post("/leads/resend-code", response={202: LeadResendOut}, summary="E-mail a new code (rate limited)")
def lead_resend_code(request: HttpRequest, payload: LeadResendIn):
    lead = lead_code_resend(public_id=payload.lead_id, ip=client_ip(request))
    return Status(202, {"id": lead.public_id, "status": lead.status})


@router.get("/categories", response=list[CategoryOut], summary="Active service categories")
def categories(request: HttpRequest):
    return list(categories_active().values("slug", "name"))
