"""Reads of money: balances, ledger sums and the provider's billing history (keyset pagination)."""
from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, Sum
from django.utils.dateparse import parse_datetime

from hotlead.billing.models import Account, LedgerEntry
from hotlead.core.exceptions import ValidationFailed

HISTORY_DEFAULT_LIMIT = 50
HISTORY_MAX_LIMIT = 200


def ledger_sum(*, provider_id: int) -> int:
    return LedgerEntry.objects.filter(account_id=provider_id).aggregate(total=Sum("amount_cents"))["total"] or 0


def balance_cents(*, provider_id: int) -> int:
    return Account.objects.filter(provider_id=provider_id).values_list("balance_cents", flat=True).first() or 0


def account_for_provider(*, provider_id: int) -> Account | None:
    return Account.objects.filter(provider_id=provider_id).select_related("provider").first()


@dataclass(frozen=True)
class Cursor:
    """A position in a list ordered by (created_at desc, id desc): the last row already shown."""

    created_at: datetime
    id: int

    def encode(self) -> str:
        raw = f"{self.created_at.isoformat()}|{self.id}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, value: str) -> Cursor:
        try:
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
            stamp, _, ident = raw.rpartition("|")
            created_at = parse_datetime(stamp)
            if created_at is None or created_at.tzinfo is None:
                raise ValueError(stamp)
            return cls(created_at=created_at, id=int(ident))
        except (ValueError, UnicodeDecodeError, binascii.Error):
            raise ValidationFailed.for_field("cursor", "The cursor is not valid; start again without it.")


def ledger_history(*, provider_id: int, cursor: str | None = None, limit: int = HISTORY_DEFAULT_LIMIT,
                   kind: str | None = None) -> tuple[list[LedgerEntry], str | None]:
    """A page of the provider's ledger, newest first; returns (entries, next_cursor or None)."""
    limit = max(1, min(limit, HISTORY_MAX_LIMIT))
    qs = LedgerEntry.objects.filter(account_id=provider_id)
    if kind:
        qs = qs.filter(kind=kind)
    if cursor:
        position = Cursor.decode(cursor)
        qs = qs.filter(Q(created_at__lt=position.created_at) | Q(created_at=position.created_at, id__lt=position.id))
    rows = list(qs.order_by("-created_at", "-id")[: limit + 1])
    next_cursor = Cursor(rows[limit - 1].created_at, rows[limit - 1].id).encode() if len(rows) > limit else None
    return rows[:limit], next_cursor
