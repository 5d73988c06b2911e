"""Schemas of the admin lead-source endpoints (SPEC §8.2)."""
from __future__ import annotations

from datetime import datetime

from ninja import Field, Schema
from pydantic import ConfigDict

from api.schemas.strict import VISIBLE_TEXT, StrictJson

RULE_PATTERN = r"^[1-9][0-9]{0,8}/[1-9][0-9]{0,7}$"


class LeadSourceIn(StrictJson):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, pattern=VISIBLE_TEXT, description="Unique; shown in the console")
    contact: str = Field("", max_length=254, description="Who to call at the partner")
    notes: str = Field("", max_length=5000)
    verified_upstream: bool = Field(False, description="The partner verifies e-mail itself: its leads skip our "
                                                       "verification and go straight to review")
    rate_limit: str = Field("", pattern=r"^$|" + RULE_PATTERN,
                            description="count/seconds for this source's leads; empty: the default")


class LeadSourceOut(Schema):
    id: int
    name: str
    contact: str
    notes: str
    verified_upstream: bool
    rate_limit: str
    key_prefix: str = Field(description="The start of the key, to tell keys apart; the key itself is never shown "
                                        "again")
    active: bool
    revoked_at: datetime | None
    key_rotated_at: datetime | None
    created_at: datetime
    leads_count: int


class LeadSourceKeyOut(LeadSourceOut):
    api_key: str = Field(description="Shown once: store it now. Send it as X-Api-Key on POST /leads")


class LeadSourcePageOut(Schema):
    items: list[LeadSourceOut]
    next_cursor: str | None


class LeadSourceQuery(Schema):
    cursor: str | None = Field(None, max_length=200, description="next_cursor of the previous page")
    limit: int = Field(50, ge=1, le=200)
