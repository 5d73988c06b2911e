"""Schemas of the provider's leads API: inbox, lead page, accept/reject, KPIs (SPEC §13)."""
from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from ninja import Field, Schema
from pydantic import ConfigDict, ValidationInfo, field_validator

from api.schemas.auth import NulFreeSchema
from api.schemas.strict import IsoDate, StrictJson
from hotlead.distribution.enums import AssignmentStatus

# SPEC §8 pagination; the model's column length. (Schemas load with the API, before the app registry
# is ready, so they import enums only — never models, selectors or services.)
INBOX_DEFAULT_LIMIT = 50
INBOX_MAX_LIMIT = 200
REJECT_REASON_MAX_LENGTH = 500


class _DateRange(NulFreeSchema):
    date_from: IsoDate | None = Field(None, description="First day, inclusive, in the provider's time zone")
    date_to: IsoDate | None = Field(None, description="Last day, inclusive, in the provider's time zone")

    @field_validator("date_to")
    @classmethod
    def _ordered(cls, value, info: ValidationInfo):
        # a field validator, so the error names date_to (the parameter the caller sent), not the query model
        date_from = info.data.get("date_from")
        if value and date_from and date_from > value:
            raise ValueError("date_to must not be before date_from")
        return value


class InboxQuery(_DateRange):
    status: AssignmentStatus | None = None
    category: str | None = Field(None, max_length=64, description="Category slug")
    cursor: str | None = Field(None, max_length=200, description="next_cursor of the previous page")
    limit: int = Field(INBOX_DEFAULT_LIMIT, ge=1, le=INBOX_MAX_LIMIT)


class InboxItemOut(Schema):
    assignment_id: int
    lead_id: uuid.UUID
    status: AssignmentStatus
    level: str
    price_cents: int
    category: str
    postal_code: str
    assigned_at: datetime
    buyers_count: int
    max_buyers: int


class InboxOut(Schema):
    items: list[InboxItemOut]
    next_cursor: str | None


class ProviderLeadContactOut(Schema):
    name: str
    email: str
    phone: str
    postal_code: str
    category: str
    description: str
    budget_cents: int | None
    timeline: str | None
    created_at: datetime


class ProviderLeadReportOut(Schema):
    id: int
    reason: str
    status: str
    created_at: datetime


class ProviderLeadDetailOut(Schema):
    assignment_id: int
    lead_id: uuid.UUID
    status: AssignmentStatus
    level: str
    price_cents: int
    assigned_at: datetime
    buyers_count: int
    max_buyers: int
    accepted_at: datetime | None
    rejected_at: datetime | None
    reject_reason: str | None
    bad_lead_report: ProviderLeadReportOut | None
    lead: ProviderLeadContactOut


class AssignmentRejectIn(StrictJson, NulFreeSchema):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(..., min_length=1, max_length=REJECT_REASON_MAX_LENGTH)


class AssignmentStatusOut(Schema):
    assignment_id: int
    status: AssignmentStatus


class ProviderKpiQuery(_DateRange):
    period: Literal["day", "week", "month"] = "day"


class ProviderKpiFiguresOut(Schema):
    received: int
    accepted: int
    rejected: int
    reported: int
    refunded: int
    spend_cents: int
    refunded_cents: int
    net_spend_cents: int
    average_price_cents: int


class ProviderKpiBucketOut(ProviderKpiFiguresOut):
    period_start: date


class ProviderKpiOut(Schema):
    period: Literal["day", "week", "month"]
    date_from: date
    date_to: date
    timezone: str
    totals: ProviderKpiFiguresOut
    series: list[ProviderKpiBucketOut]
