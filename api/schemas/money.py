"""Schemas of money, levels and subscriptions (SPEC §13). No model is exposed whole.

Filters and schedules arrive as plain JSON and are validated by the domain (hotlead.levels.filters /
hotlead.levels.schedule), so an error names the bad filter by index, field and operator.
"""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from ninja import Schema
from pydantic import ConfigDict, Field, StrictBool, StrictInt

from api.schemas.strict import StrictJson
from hotlead.billing.enums import EntryKind, PaymentMethod, PaymentStatus
from hotlead.levels.enums import SubscriptionStatus

FILTERS_DESCRIPTION = (
    'A list of {"field", "op", "value"}; all must match. Fields: category, postal_code, budget_cents, timeline, '
    "source. Operators: eq, ne, in, not_in (non-empty list), gte, lte, between ([lo, hi] inclusive), prefix "
    "(postal_code, source). A bad filter is a 422 whose details name it: "
    '{"field": "filters.<i>", "message", "filter": {"index", "field", "op"}}.'
)
SCHEDULE_DESCRIPTION = (
    'Delivery hours in the provider\'s time zone: {"days": [0-6, Monday=0], "start": "HH:MM", "end": "HH:MM"}; '
    "the window is start <= t < end; end before start is an overnight window belonging to the day it starts. "
    "null = any time."
)


class _In(StrictJson):
    model_config = ConfigDict(extra="forbid")


class _Page(Schema):
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page; null on the last page")


# --- provider: balance and history ------------------------------------------------------------------


class BalanceOut(Schema):
    balance_cents: int
    currency: str
    low_balance_threshold_cents: int


class HistoryQuery(Schema):
    cursor: str | None = Field(None, max_length=200, description="next_cursor of the previous page")
    limit: int = Field(50, ge=1, le=200)
    kind: EntryKind | None = None


class LedgerItemOut(Schema):
    id: int
    kind: EntryKind
    amount_cents: int = Field(description="Signed: + credits, - debits")
    balance_after_cents: int
    created_at: datetime
    memo: str
    reference: str


class HistoryOut(_Page):
    items: list[LedgerItemOut]


SCHEDULE_SCHEMA = {"anyOf": [{"type": "null"}, {
    "type": "object", "additionalProperties": False, "required": ["days", "start", "end"],
    "properties": {
        "days": {"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 6}, "minItems": 1,
                 "maxItems": 7, "uniqueItems": True},
        "start": {"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$"},
        "end": {"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$", "description": "Not equal to start"},
    }}]}


# --- provider: subscriptions ------------------------------------------------------------------------

Cap = Annotated[StrictInt, Field(ge=1, le=1_000_000)] | None  # daily <= weekly <= monthly when several are set
Budget = Annotated[StrictInt, Field(ge=1, le=2_147_483_647)] | None  # at least the level's price


class SubscriptionCreateIn(_In):
    level: str = Field(min_length=1, max_length=64, description="An active competition level's slug")
    filters: list[Any] | None = Field(None, description=FILTERS_DESCRIPTION,
                                      examples=[[{"field": "budget_cents", "op": "gte", "value": 50000}]])
    daily_cap: Cap = Field(None, description="At most this many leads per day (provider's time zone)")
    weekly_cap: Cap = None
    monthly_cap: Cap = None
    monthly_budget_cents: Budget = Field(None, description="At most this much spend per calendar month; at least "
                                                           "the level's price")
    schedule: Any | None = Field(None, description=SCHEDULE_DESCRIPTION, json_schema_extra=SCHEDULE_SCHEMA,
                                 examples=[{"days": [0, 1, 2, 3, 4], "start": "08:00", "end": "18:00"}])


class SubscriptionUpdateIn(_In):
    """Any of the create fields (null clears a cap, budget or schedule), or a status change."""

    level: str | None = Field(None, max_length=64, description="Must be the current level if sent")
    filters: list[Any] | None = Field(None, description=FILTERS_DESCRIPTION)
    daily_cap: Cap = None
    weekly_cap: Cap = None
    monthly_cap: Cap = None
    monthly_budget_cents: Budget = None
    schedule: Any | None = Field(None, description=SCHEDULE_DESCRIPTION, json_schema_extra=SCHEDULE_SCHEMA)
    status: Literal["paused", "active"] | None = Field(None, description='"paused" pauses, "active" resumes')


class SubscriptionQuery(Schema):
    status: SubscriptionStatus | None = Field(None, description="Default: every status but cancelled")
    cursor: str | None = Field(None, max_length=50)
    limit: int = Field(50, ge=1, le=200)


class SubscriptionOut(Schema):
    id: int
    level: str
    level_name: str
    price_cents: int
    status: SubscriptionStatus
    status_reason: str
    filters: list[dict[str, Any]]
    daily_cap: int | None
    weekly_cap: int | None
    monthly_cap: int | None
    monthly_budget_cents: int | None
    schedule: dict[str, Any] | None
    timezone: str = Field(description="The provider's time zone, in which caps and schedule are counted")
    paused_at: datetime | None
    created_at: datetime
    updated_at: datetime


class SubscriptionPageOut(_Page):
    items: list[SubscriptionOut]


# --- admin: levels ----------------------------------------------------------------------------------


class LevelIn(_In):
    name: str = Field(min_length=1, max_length=100, pattern=r"\S")
    slug: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
    rank: StrictInt = Field(ge=1, le=10_000, description="1 is tried first; a level already at this rank moves one "
                                                          "down")
    price_cents: StrictInt = Field(ge=1, le=100_000_000)
    max_recipients: StrictInt = Field(ge=1, le=50, description="1 = exclusive")
    active: StrictBool = True


class LevelOut(Schema):
    id: int
    name: str
    slug: str
    rank: int
    price_cents: int
    max_recipients: int
    active: bool
    archived_at: datetime | None
    created_at: datetime
    updated_at: datetime


class LevelListQuery(Schema):
    include_archived: bool = False


class LevelReorderIn(_In):
    ids: list[StrictInt] = Field(description="Every live level's id once, in the new order (rank 1 first)")


class LevelDeleteOut(Schema):
    id: int
    outcome: Literal["deleted", "archived"] = Field(
        description="deleted if nothing ever referenced the level; otherwise archived (its subscriptions cancelled)"
    )


# --- admin: deposits --------------------------------------------------------------------------------


class DepositIn(_In):
    amount_cents: StrictInt = Field(ge=1, le=100_000_000_00, description="Positive")
    method: PaymentMethod
    reference: str = Field("", max_length=200, description="Bank transfer or cheque reference")


class DepositOut(Schema):
    id: int
    status: PaymentStatus
    amount_cents: int
    method: PaymentMethod
    reference: str
    provider_id: int
    ledger_entry_id: int | None
    balance_cents: int = Field(description="The provider's balance after this deposit")


# --- webhook ----------------------------------------------------------------------------------------


class PaymentEventIn(Schema):
    """The payment provider's event; fields we do not use are ignored."""

    model_config = ConfigDict(extra="ignore")

    payment_id: str = Field(min_length=1, max_length=200, description="The payment provider's payment id")
    status: PaymentStatus
    provider_id: StrictInt = Field(description="Our provider id, set as metadata when the payment was started")
    amount_cents: StrictInt = Field(gt=0)
    currency: str = Field(min_length=3, max_length=3)
    reference: str = Field("", max_length=200)


class PaymentWebhookOut(Schema):
    payment_id: str
    status: PaymentStatus
    credited: bool = Field(description="true only for the delivery that credited the account")
