"""Schemas of the bad-lead API: the provider's report, staff review, fraud (SPEC §6, §13).

Schemas load with the API, before the app registry is ready: they import enums only.
"""
from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from ninja import Field, Schema
from pydantic import ConfigDict, ValidationInfo, field_validator

from api.schemas.strict import StrictJson
from hotlead.distribution.enums import AssignmentStatus
from hotlead.refunds.enums import AutoRule, BadLeadReason, ReportStatus

DETAILS_MAX_LENGTH = 5000
NOTE_MAX_LENGTH = 2000
LIST_DEFAULT_LIMIT = 50
LIST_MAX_LIMIT = 200


class ReturnRateOut(Schema):
    percent: Decimal = Field(description="reports / window × 100, two decimals")
    reports: int = Field(description="Reports (any status) on the provider's last `window` assignments")
    assignments: int = Field(description="How many assignments the provider has in that window (≤ window)")
    window: int
    max_percent: int
    over_cap: bool = Field(description="Over the cap: no auto-approval, the provider is flagged")


# --- provider -------------------------------------------------------------------------------------


class BadLeadIn(StrictJson):
    model_config = ConfigDict(extra="forbid")

    reason: BadLeadReason
    details: str = Field("", max_length=DETAILS_MAX_LENGTH, validate_default=True,
                         description="Required (some visible text) when the reason is `other`")

    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "if": {"properties": {"reason": {"const": "other"}}, "required": ["reason"]},
        "then": {"required": ["details"], "properties": {"details": {"pattern": "\\S"}}},
    })

    @field_validator("details")
    @classmethod
    def _details_for_other(cls, value: str, info: ValidationInfo) -> str:
        if info.data.get("reason") == BadLeadReason.OTHER and not value.strip():
            raise ValueError("Describe what is wrong with this lead.")
        return value


class BadLeadCreatedOut(Schema):
    id: int
    assignment_id: int
    status: ReportStatus = Field(description="`pending`, or `approved` when an auto-approval rule applied")
    reason: BadLeadReason
    matched_rule: AutoRule | None = Field(None, description="The objective rule the lead breaks, if any")
    auto_rule: AutoRule | None = Field(None, description="The rule that approved the report automatically")
    refund_cents: int | None = None
    return_rate: ReturnRateOut
    message: str = Field(description="What happens next, in words")


# --- admin -----------------------------------------------------------------------------------------


class ReportListQuery(Schema):
    model_config = ConfigDict(extra="forbid")

    status: ReportStatus | None = None
    reason: BadLeadReason | None = None
    provider_id: int | None = Field(None, ge=1, le=2**63 - 1)
    min_age_hours: int | None = Field(None, ge=0, le=24 * 3650, description="Filed at least this many hours ago")
    max_age_hours: int | None = Field(None, ge=0, le=24 * 3650, description="Filed at most this many hours ago")
    cursor: str | None = Field(None, max_length=200, description="next_cursor of the previous page")
    limit: int = Field(LIST_DEFAULT_LIMIT, ge=1, le=LIST_MAX_LIMIT)


class ReportItemOut(Schema):
    id: int
    assignment_id: int
    lead_id: uuid.UUID
    provider_id: int
    provider_name: str
    reason: BadLeadReason
    details: str
    status: ReportStatus
    price_cents: int
    created_at: datetime
    decided_at: datetime | None
    matched_rule: AutoRule | None
    auto_rule: AutoRule | None
    return_rate_percent_at_report: Decimal | None
    refund_cents: int | None


class ReportListOut(Schema):
    items: list[ReportItemOut]
    next_cursor: str | None


class ReportLeadOut(Schema):
    category: str
    postal_code: str
    email_bounced: bool
    phone_valid: bool
    is_fraud: bool


class ReportAssignmentOut(Schema):
    status: AssignmentStatus
    level: str
    assigned_at: datetime
    in_area_at_sale: bool


class ReportDetailOut(ReportItemOut):
    decision_note: str
    decided_by: str | None
    lead: ReportLeadOut
    assignment: ReportAssignmentOut
    provider_return_rate: ReturnRateOut = Field(description="The provider's return rate now")


class ApproveIn(StrictJson):
    model_config = ConfigDict(extra="forbid")

    note: str = Field("", max_length=NOTE_MAX_LENGTH)


class ApproveOut(Schema):
    id: int
    status: ReportStatus
    refund_cents: int


class RejectIn(StrictJson):
    model_config = ConfigDict(extra="forbid")

    note: str = Field(..., min_length=1, max_length=NOTE_MAX_LENGTH, description="Shown to the provider")


class RejectOut(Schema):
    id: int
    status: ReportStatus
    note: str


class FraudRefundOut(Schema):
    assignment_id: int
    provider_id: int
    refund_cents: int


class MarkFraudOut(Schema):
    id: uuid.UUID
    is_fraud: bool
    newly_marked: bool = Field(description="False when the lead was already marked (nothing new happened)")
    refunds: list[FraudRefundOut] = Field(description="Refunds issued by this call")
    refunded_cents: int
    reports_closed: list[int]
