"""Schemas of the public lead endpoints and the admin review endpoints (SPEC §13)."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from ninja import Schema
from pydantic import ConfigDict, Field, StrictBool

from api.schemas.strict import IsoDateTime, StrictJson
from hotlead.leads.enums import LeadStatus, RejectReason


class _In(StrictJson):
    # A client can never set what it does not own (status, duplicate flag, consent time…).
    model_config = ConfigDict(extra="forbid")


# --- public ------------------------------------------------------------------------------------------

class LeadSubmitIn(_In):
    name: str = Field(max_length=1000)
    email: str = Field(max_length=1000)
    phone: str = Field(max_length=100)
    postal_code: str = Field(max_length=100)
    category: str = Field(max_length=200, description="A category slug from GET /categories")
    description: str = Field(max_length=20_000, description="At most 5,000 characters after trimming")
    budget_cents: int | None = None
    timeline: str | None = Field(None, description='"asap", "within_month" or "flexible"')
    consent: StrictBool = Field(description="Must be true")
    source: str | None = Field(None, max_length=1000)
    utm_source: str | None = Field(None, max_length=1000)
    utm_medium: str | None = Field(None, max_length=1000)
    utm_campaign: str | None = Field(None, max_length=1000)
    referrer: str | None = Field(None, max_length=4000)


class LeadSubmitOut(Schema):
    id: uuid.UUID
    status: str


class LeadVerifyIn(_In):
    lead_id: uuid.UUID
    code: str | None = Field(None, max_length=100, description="The 6-digit code from the e-mail")
    token: str | None = Field(None, max_length=200, description="Or the token of the e-mailed link")


class LeadSummaryOut(Schema):
    """What the submitter is asked to confirm."""

    name: str
    email: str
    phone: str
    postal_code: str
    category: str
    category_name: str
    description: str
    budget_cents: int | None
    timeline: str


class LeadVerifyOut(Schema):
    id: uuid.UUID
    status: str
    confirm_token: str
    lead: LeadSummaryOut


class LeadConfirmIn(_In):
    lead_id: uuid.UUID
    confirm_token: str = Field(max_length=200)


class LeadConfirmOut(Schema):
    id: uuid.UUID
    status: str


class LeadResendIn(_In):
    lead_id: uuid.UUID


class LeadResendOut(Schema):
    id: uuid.UUID
    status: str


class CategoryOut(Schema):
    slug: str
    name: str


# --- admin -------------------------------------------------------------------------------------------

class AdminCategoryOut(Schema):
    slug: str
    name: str
    active: bool
    created_at: datetime
    updated_at: datetime


class AdminCategoryCreateIn(_In):
    slug: str = Field(max_length=200)
    name: str = Field(max_length=1000)
    active: bool = True


class AdminCategoryUpdateIn(_In):
    name: str | None = Field(None, max_length=1000)
    active: bool | None = None


class AdminLeadQuery(Schema):
    status: LeadStatus | None = None
    category: str | None = Field(None, max_length=200, description="A category slug")
    possible_duplicate: bool | None = None
    created_from: IsoDateTime | None = Field(None, description="Created at or after (ISO 8601)")
    created_to: IsoDateTime | None = Field(None, description="Created before (ISO 8601)")
    q: str | None = Field(None, max_length=200, description="E-mail, phone, postal code, name or public id")
    cursor: str | None = Field(None, max_length=200)
    limit: int = Field(50, ge=1, le=200)


class AdminLeadRowOut(Schema):
    id: uuid.UUID
    status: str
    name: str
    email: str
    phone: str
    postal_code: str
    category: str
    source: str
    possible_duplicate: bool
    duplicate_of: uuid.UUID | None
    created_at: datetime


class AdminLeadPageOut(Schema):
    items: list[AdminLeadRowOut]
    next_cursor: str | None


class ConsentOut(Schema):
    text_version: str
    at: datetime
    ip: str | None
    user_agent: str


class SourceOut(Schema):
    source: str
    utm_source: str
    utm_medium: str
    utm_campaign: str
    referrer: str
    api_client: str


class LeadEventOut(Schema):
    at: datetime
    action: str
    from_status: str
    to_status: str
    actor: str | None
    note: str
    data: dict[str, Any]


class AssignmentOut(Schema):
    id: int
    provider_id: int
    provider: str
    level: str
    price_cents: int
    status: str
    assigned_at: datetime


class LeadDistributionRunOut(Schema):
    id: int
    trigger: str
    outcome: str
    buyers: int
    actor: str | None
    started_at: datetime
    finished_at: datetime | None
    levels: list[dict[str, Any]] = Field(description=(
        "Per level, as the engine recorded it (SPEC §4.5): level, considered, skipped {reason: n}, "
        "chosen [provider_id], and the engine's further detail (eligible, why, …)"))


class DistributionOut(Schema):
    runs: list[LeadDistributionRunOut]


class AdminLeadDetailOut(Schema):
    id: uuid.UUID
    status: str
    name: str
    email: str
    phone: str
    phone_valid: bool
    postal_code: str
    category: str
    description: str
    budget_cents: int | None
    timeline: str
    consent: ConsentOut
    source: SourceOut
    possible_duplicate: bool
    duplicate_of: uuid.UUID | None
    verified_at: datetime | None
    confirmed_at: datetime | None
    reviewed_by: str | None
    reviewed_at: datetime | None
    reject_reason: str
    review_note: str
    buyers_count: int
    created_at: datetime
    history: list[LeadEventOut]
    assignments: list[AssignmentOut]
    distribution: DistributionOut


class AdminApproveIn(_In):
    note: str | None = Field(None, max_length=10_000)


class AdminRejectIn(_In):
    reason: RejectReason
    note: str | None = Field(None, max_length=10_000)


class AdminDecisionOut(Schema):
    id: uuid.UUID
    status: str


