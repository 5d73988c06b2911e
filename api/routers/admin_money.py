"""Staff: competition levels and deposits (SPEC §8.1, §13). Thin: one domain call each."""
from __future__ import annotations

from django.http import HttpRequest
from ninja import Header, Query, Router, Status

from api.auth import staff_auth
from api.schemas.money import (
    DepositIn,
    DepositOut,
    LevelDeleteOut,
    LevelIn,
    LevelListQuery,
    LevelOut,
    LevelReorderIn,
)
from hotlead.billing.services.payments import payment_record
from hotlead.levels.selectors import levels_list
from hotlead.levels.services.levels import level_archive
from hotlead.levels.services.levels import level_create as create
from hotlead.levels.services.levels import level_reorder as reorder
from hotlead.levels.services.levels import level_update as update

router = Router(auth=staff_auth)


@router.get("/competition-levels", response=list[LevelOut], summary="Competition levels by rank")
def levels(request: HttpRequest, query: Query[LevelListQuery]):
    return list(levels_list(include_archived=query.include_archived))


@router.post("/competition-levels", response={201: LevelOut},
             summary="Create a level (a level already at its rank moves one down)")
def level_create(request: HttpRequest, payload: LevelIn):
    return Status(201, create(actor=request.auth, **payload.model_dump()))


@router.put("/competition-levels/{int:level_id}", response=LevelOut,
            summary="Replace a level's settings (a price change re-checks subscribers' funds)")
def level_update(request: HttpRequest, level_id: int, payload: LevelIn):
    return update(level_id=level_id, actor=request.auth, **payload.model_dump())


@router.delete("/competition-levels/{int:level_id}", response=LevelDeleteOut,
               summary="Delete a level never used, otherwise archive it")
def level_delete(request: HttpRequest, level_id: int):
    return {"id": level_id, "outcome": level_archive(level_id=level_id, actor=request.auth)}


@router.post("/competition-levels/reorder", response=list[LevelOut],
             summary="Set the order of the live levels (atomic; ranks become 1…n)")
def level_reorder(request: HttpRequest, payload: LevelReorderIn):
    return reorder(level_ids=payload.ids, actor=request.auth)


@router.post("/providers/{int:provider_id}/deposits", response={201: DepositOut},
             summary="Record a deposit (bank transfer, cheque…); credited at once",
             description="Send an `Idempotency-Key` header to make a retried request credit only once.")
def deposit_record(request: HttpRequest, provider_id: int, payload: DepositIn,
                   idempotency_key: str = Header("", alias="Idempotency-Key", max_length=100)):
    payment = payment_record(provider_id=provider_id, amount_cents=payload.amount_cents, method=payload.method,
                             reference=payload.reference, actor=request.auth, idempotency_key=idempotency_key)
    return Status(201, {
        "id": payment.pk, "status": payment.status, "amount_cents": payment.amount_cents, "method": payment.method,
        "reference": payment.reference, "provider_id": payment.provider_id,
        "ledger_entry_id": payment.ledger_entry_id,
        "balance_cents": payment.ledger_entry.balance_after_cents if payment.ledger_entry_id else 0,
    })
