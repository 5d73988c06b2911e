"""Admin API of the job queues (SPEC §8.1): overview, dead-letter list, detail, retry, resolve. Thin.

Domain modules are imported inside the views: this module loads before the app registry is ready.
"""
from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Router

from api.auth import staff_auth
from api.schemas.ops import DeadLetterListQuery, DeadLetterOut, DeadLetterPageOut, DeadLetterResolveIn, QueueOverviewOut
from hotlead.ops.selectors import dead_letter_get, queue_overview
from hotlead.ops.selectors import dead_letter_list as select
from hotlead.ops.services import dead_letter_resolve as resolve
from hotlead.ops.services import dead_letter_retry as retry

router = Router(auth=staff_auth)


@router.get("/queues", response=QueueOverviewOut, summary="Queue depth, dead letters, recent failures, schedules")
def queues_overview(request: HttpRequest):
    return queue_overview()


@router.get("/queues/dlq", response=DeadLetterPageOut, summary="Dead letters, newest first (cursor pagination)")
def dead_letter_list(request: HttpRequest, filters: Query[DeadLetterListQuery]):
    return select(status=filters.status, cursor=filters.cursor, limit=filters.limit)


@router.get("/queues/dlq/{dead_letter_id}", response=DeadLetterOut, summary="One dead letter with its error")
def dead_letter_detail(request: HttpRequest, dead_letter_id: int):
    return dead_letter_get(dead_letter_id=dead_letter_id)


@router.post("/queues/dlq/{dead_letter_id}/retry", response=DeadLetterOut,
             summary="Run the job again (status retried; resolved when it succeeds)")
def dead_letter_retry(request: HttpRequest, dead_letter_id: int):
    return retry(dead_letter_id=dead_letter_id, actor=request.auth)


@router.post("/queues/dlq/{dead_letter_id}/resolve", response=DeadLetterOut,
             summary="Close the dead letter without running it, with an optional note")
def dead_letter_resolve(request: HttpRequest, dead_letter_id: int, payload: DeadLetterResolveIn | None = None):
    return resolve(dead_letter_id=dead_letter_id, actor=request.auth, note=payload.note if payload else "")
