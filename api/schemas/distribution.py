"""Schemas of the admin distribution endpoint (SPEC §4.5, §13)."""
from __future__ import annotations

import uuid
from datetime import datetime

from ninja import Schema
from pydantic import Field


class LevelTraceOut(Schema):
    level: str
    considered: int = Field(description="Live subscriptions at this level")
    eligible: int
    skipped: dict[str, int] = Field(description="Skipped subscriptions by first failing reason (SPEC §4.1)")
    chosen: list[int] = Field(description="Provider ids that bought, in serving order")
    why: str


class DistributionRunOut(Schema):
    id: int
    trigger: str
    actor: str | None
    outcome: str = Field(description='"distributed" or "unsold"')
    buyers: int
    started_at: datetime
    finished_at: datetime | None
    duration_ms: float | None
    levels: list[LevelTraceOut]


class DistributeOut(Schema):
    id: uuid.UUID
    status: str
    buyers_count: int
    run: DistributionRunOut
