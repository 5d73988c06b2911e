"""Schemas of the admin queue API (SPEC §8.1: queues overview, dlq list, detail, retry, resolve).

Loaded with the API, before the app registry is ready: enums only, never models.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field, Schema
from pydantic import ConfigDict

from api.schemas.strict import StrictJson
from hotlead.ops.enums import DeadLetterStatus

DLQ_DEFAULT_LIMIT = 50
DLQ_MAX_LIMIT = 200
NOTE_MAX_LENGTH = 2000


class DeadLetterListQuery(Schema):
    status: DeadLetterStatus | None = Field(None, description="open, retried or resolved; all when absent")
    cursor: str | None = Field(None, max_length=200, description="next_cursor of the previous page")
    limit: int = Field(DLQ_DEFAULT_LIMIT, ge=1, le=DLQ_MAX_LIMIT)


class DeadLetterItemOut(Schema):
    id: int
    job_id: str = Field(..., alias="task_id")
    func: str
    task_name: str
    status: DeadLetterStatus
    attempts: int
    retry_count: int
    first_failed_at: datetime
    last_failed_at: datetime
    error_summary: str = Field(..., description="The last line of the error")

    @staticmethod
    def resolve_error_summary(obj) -> str:
        lines = [line for line in (obj.error or "").strip().splitlines() if line.strip()]
        return lines[-1][:300] if lines else ""


class DeadLetterOut(DeadLetterItemOut):
    args: list[Any]
    kwargs: dict[str, Any]
    error: str
    retried_at: datetime | None
    resolved_at: datetime | None
    note: str


class DeadLetterPageOut(Schema):
    items: list[DeadLetterItemOut]
    next_cursor: str | None


class DeadLetterResolveIn(StrictJson):
    model_config = ConfigDict(extra="forbid")

    note: str = Field("", max_length=NOTE_MAX_LENGTH, description="Why no (more) running is needed")


class ScheduleOut(Schema):
    name: str | None
    func: str
    schedule_type: str
    minutes: int | None
    repeats: int
    next_run: datetime | None


class QueueOverviewOut(Schema):
    queue_depth: int = Field(..., description="Jobs waiting in the broker")
    dead_letters_open: int
    dead_letters_retried: int
    worker_last_seen_seconds: float | None = Field(..., description="Seconds since a job worker's heartbeat")
    recent_failures: list[DeadLetterItemOut] = Field(..., description="Newest unresolved dead letters")
    schedules: list[ScheduleOut] = Field(..., description="Recurring schedules")
