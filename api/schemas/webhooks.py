"""Schemas of the provider's webhook API (SPEC §7) and the inbound e-mail events. Enums only, no models."""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from ninja import Field, Schema
from pydantic import ConfigDict

from api.schemas.auth import NulFreeSchema
from api.schemas.strict import StrictJson
from hotlead.webhooks.enums import SUBSCRIBABLE, AttemptOutcome, DeliveryStatus

EventName = Literal["lead.assigned", "lead.refunded", "subscription.status_changed"]
assert set(EventName.__args__) == set(SUBSCRIBABLE)


class WebhookIn(StrictJson, NulFreeSchema):
    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(..., max_length=200, description="https URL of your endpoint with a public host (at most "
                                                             "200 characters); null or \"\" removes it")
    enabled: bool | None = Field(None, description="Omit to keep; true re-enables a disabled endpoint")
    events: list[EventName] | None = Field(None, max_length=10, description="Omit to keep; default: every event")


class WebhookOut(Schema):
    url: str
    enabled: bool
    events: list[str]
    has_secret: bool
    consecutive_failures: int
    disabled_at: datetime | None
    disabled_reason: str
    previous_secret_expires_at: datetime | None = Field(
        None, description="While set and in the future, the previous secret also signs (after a rotation)")
    secret: str | None = Field(None, description="Only in the answer that created the secret (the first URL, a "
                                                 "rotation): store it now, it is never shown again")


class AttemptOut(Schema):
    number: int
    started_at: datetime
    url: str
    outcome: AttemptOutcome
    status_code: int | None
    latency_ms: int
    error: str
    response_body: str = Field(..., description="The first 4 KB of your endpoint's answer")


class DeliveryOut(Schema):
    id: int
    event_id: str = Field(..., description="The webhook-id header: the same for every replay of the event")
    event_type: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str
    created_at: datetime
    finished_at: datetime | None
    replay_of: int | None
    attempt_log: list[AttemptOut]


class DeliveriesOut(Schema):
    items: list[DeliveryOut]
    next_before: int | None = Field(None, description="Pass as `before` for the next (older) page")


class DeliveriesQuery(Schema):
    status: DeliveryStatus | None = None
    event_type: str | None = Field(None, max_length=40)
    before: int | None = Field(None, ge=1, le=2**63 - 1)
    limit: int = Field(50, ge=1, le=200)


class EmailEventOut(Schema):
    received: bool
    type: str
    bounced: bool = Field(..., description="True when the address was marked as bounced")
    leads_marked: int
