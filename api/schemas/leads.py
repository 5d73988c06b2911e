"""Schemas of the public lead endpoints and the admin review endpoints (SPEC §13)."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from ninja import Schema
from pydantic import ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from api.schemas.strict import (
    EMAIL_PATTERN,
    PHONE_DESCRIPTION,
    POSTAL_CODE_PATTERN,
    SLUG_PATTERN,
    US_ZIP_DESCRIPTION,
    US_ZIP_PATTERN,
    VISIBLE_TEXT,
    IsoDateTime,
    StrictJson,
    documented,
    text_at_least,
)
from hotlead.leads.enums import LeadStatus, RejectReason
from hotlead.leads.validation import BUDGET_MAX_CENTS, DESCRIPTION_MAX, DESCRIPTION_MIN, postal_region


class _In(StrictJson):
    # A client can never set what it does not own (status, duplicate flag, consent time…).
    model_config = ConfigDict(extra="forbid")


# --- public ------------------------------------------------------------------------------------------

def _postal_code_field():
    """The postal code of the region the form accepts (HOTLEAD POSTAL_REGION, default US): a US ZIP code's
    shape is checked here (a 422 in the service's words), whether it exists by the service."""
    if postal_region() == "US":
        return Field(min_length=5, max_length=30, pattern=US_ZIP_PATTERN, description=US_ZIP_DESCRIPTION,
                     json_schema_extra={"format": "us-zip"})
    return Field(min_length=3, max_length=30, pattern=POSTAL_CODE_PATTERN,
                 description="Letters, digits and dashes (3-10); spaces are removed, letters upper-cased")


class LeadSubmitIn(_In):
    name: str = Field(min_length=1, max_length=200, pattern=VISIBLE_TEXT,
                      description="Bidi controls and zero-width characters are removed before storage")
    email: str = Field(min_length=6, max_length=254, pattern=EMAIL_PATTERN)
    phone: str = Field(min_length=7, max_length=30, description=PHONE_DESCRIPTION,
                       json_schema_extra={"format": "phone"})
    postal_code: str = _postal_code_field()
    category: str = Field(min_length=1, max_length=64, pattern=SLUG_PATTERN,
                          description="An active category slug from GET /categories")
    # the length counts without the whitespace around the text: checked by the service, which reports it with
    # every other bad field (and says how many characters were written)
    description: str = Field(min_length=1, max_length=DESCRIPTION_MAX, pattern=r"\S",
                             description=f"What the job is: at least {DESCRIPTION_MIN} characters, not counting "
                                         "spaces around it",
                             **documented(min_length=DESCRIPTION_MIN, pattern=text_at_least(DESCRIPTION_MIN)))
    budget_cents: int | None = Field(None, ge=0, le=BUDGET_MAX_CENTS,
                                     description="In cents, whole dollars: 0 to 1000000000 ($10,000,000)")
    timeline: Literal["asap", "within_month", "flexible", ""] | None = None
    consent: Literal[True] = Field(description="Must be true: the submitter agrees to be contacted")
    source: str | None = Field(None, max_length=64, pattern=r"^ *(?:[A-Za-z0-9_.:-]{1,64})? *$",
                               description='Letters, digits and . _ : - (default "web")')
    utm_source: str | None = Field(None, max_length=100)
    utm_medium: str | None = Field(None, max_length=100)
    utm_campaign: str | None = Field(None, max_length=100)
    referrer: str | None = Field(None, max_length=500)


class LeadSubmitOut(Schema):
    id: uuid.UUID
    reference: str = Field(description="The short reference the submitter reads, e.g. HL-7K3Q9")
    status: str


def _verify_one_of(schema: dict) -> None:
    schema["oneOf"] = [{"required": ["lead_id", "code"]}, {"required": ["lead_id", "token"]}]
    schema["required"] = ["lead_id"]


class LeadVerifyIn(_In):
    """Exactly one of `code` (typed by the submitter) or `token` (from the e-mailed link)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_verify_one_of)

    lead_id: uuid.UUID
    code: str = Field(None, pattern=r"^[0-9]{6}$", description="The 6-digit code from the e-mail")
    token: str = Field(None, min_length=1, max_length=200, pattern=r"\S",
                       description="Or the token of the e-mailed link")

    @model_validator(mode="before")
    @classmethod
    def _one_of(cls, data):
        if isinstance(data, dict) and (("code" in data) == ("token" in data) or None in (data.get("code", 1),
                                                                                        data.get("token", 1))):
            raise PydanticCustomError("one_of", "Send exactly one of code or token.", {"field": "code"})
        return data


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
    reference: str = Field(description="The short reference the submitter reads, e.g. HL-7K3Q9")
    status: str
    confirm_token: str
    lead: LeadSummaryOut


class LeadConfirmIn(_In):
    lead_id: uuid.UUID
    confirm_token: str = Field(min_length=1, max_length=200, pattern=r"\S")


class LeadConfirmOut(Schema):
    id: uuid.UUID
    reference: str = Field(description="The short reference the submitter reads, e.g. HL-7K3Q9")
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


CATEGORY_SLUG_PATTERN = r"^ *[A-Za-z0-9]+(?:-[A-Za-z0-9]+)* *$"  # stored lower-case, spaces trimmed


class AdminCategoryCreateIn(_In):
    slug: str = Field(min_length=1, max_length=64, pattern=CATEGORY_SLUG_PATTERN)
    name: str = Field(min_length=1, max_length=120, pattern=VISIBLE_TEXT)
    active: bool = True


class AdminCategoryUpdateIn(_In):
    name: str | None = Field(None, min_length=1, max_length=120, pattern=VISIBLE_TEXT)
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


