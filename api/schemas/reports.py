"""Schemas of the report and export API (SPEC §8.1, §10). Enums only: loaded before the app registry."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from ninja import Field, Schema

from api.schemas.auth import NulFreeSchema
from api.schemas.strict import IsoDate, StrictJson

AdminReport = Literal["kpis", "funnel", "revenue", "starvation", "flags", "leads", "assignments", "ledger"]
ProviderReport = Literal["kpis", "leads", "ledger"]
ExportFormatIn = Literal["xlsx", "csv"]


class ReportRangeQuery(Schema):
    date_from: IsoDate | None = Field(None, description="First day, inclusive, in the site's time zone "
                                                     "(default: 29 days before date_to)")
    date_to: IsoDate | None = Field(None, description="Last day, inclusive (default: today). At most 731 days.")


class RevenueQuery(ReportRangeQuery):
    group_by: Literal["day", "level", "category", "source"] = "day"


class StarvationQuery(Schema):
    days: int = Field(7, ge=1, le=365, description="No lead for this many days")


class KpisOut(Schema):
    date_from: date
    date_to: date
    submitted: int
    verified: int
    approved: int
    rejected: int
    distributed: int
    unsold: int
    sell_through: float = Field(description="distributed ÷ (distributed + unsold); 0 when both are 0")
    avg_buyers_per_lead: float = Field(description="assignments ÷ distributed")
    revenue_cents: int = Field(description="Charges the ledger posted in the range")
    refunds_cents: int
    net_cents: int


class FunnelStepOut(Schema):
    step: Literal["submitted", "verified", "confirmed", "approved", "distributed"]
    count: int
    conversion: float = Field(description="count ÷ the previous step's count (1.0 for the first)")


class FunnelOut(Schema):
    date_from: date
    date_to: date
    steps: list[FunnelStepOut]


class RevenueFiguresOut(Schema):
    assignments: int
    charges_cents: int
    refunds_cents: int
    net_cents: int


class RevenueRowOut(RevenueFiguresOut):
    key: str = Field(description="YYYY-MM-DD, a level slug or a category slug")


class RevenueOut(Schema):
    date_from: date
    date_to: date
    group_by: str
    rows: list[RevenueRowOut]
    total: RevenueFiguresOut


class StarvingOut(Schema):
    provider_id: int
    company_name: str
    subscription_id: int
    level: str
    last_assigned_at: datetime | None
    eligible_leads_missed: int


class StarvationOut(Schema):
    days: int
    items: list[StarvingOut]


class ProviderFlagOut(Schema):
    provider_id: int
    company_name: str
    assignments: int
    return_rate: float = Field(description="Bad-lead reports on the last RETURN_RATE_WINDOW assignments ÷ window")
    reject_rate: float = Field(description="Rejections on the last REJECT_RATE_WINDOW assignments ÷ window")
    flagged: bool
    flagged_reason: str


class ProviderFlagsOut(Schema):
    items: list[ProviderFlagOut]


class ExportIn(StrictJson, NulFreeSchema):
    report: AdminReport
    format: ExportFormatIn
    date_from: IsoDate | None = None
    date_to: IsoDate | None = None
    params: dict[str, Any] | None = Field(None, description='revenue: {"group_by": "day|level|category|source"}; '
                                                            'starvation: {"days": N}')


class ProviderExportIn(StrictJson, NulFreeSchema):
    report: ProviderReport
    format: ExportFormatIn
    date_from: IsoDate | None = None
    date_to: IsoDate | None = None


class ExportQueuedOut(Schema):
    id: int
    status: str


class ExportOut(Schema):
    id: int
    report: str
    format: str
    status: Literal["queued", "running", "done", "failed"]
    progress: float
    rows: int
    size_bytes: int
    date_from: date
    date_to: date
    created_at: datetime
    expires_at: datetime
    download_url: str | None
    error: str | None
