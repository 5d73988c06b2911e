"""Keyset pagination: an opaque cursor naming the last row shown, and the page that starts strictly after it.

Every list of the API, the portal and the console pages this way (SPEC §8: `?limit=&cursor=` →
`{items, next_cursor}`): a page is `limit + 1` rows read in the list's order, filtered by a row comparison
on the ordering columns (`(created_at, id) < (…)`, which PostgreSQL turns into an index bound), so pages
neither skip nor repeat rows while others write, whatever their depth.

A cursor is the URL-safe base64 (unpadded) of a JSON list of the key's values (an aware datetime as ISO
8601, an id as an integer). Cursors written before the lists shared this helper (`<iso>|<id>`,
`<prefix>:<id>` inside base64, or a bare id) are still read, so a page link already handed out keeps working.
"""
from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar

from django.db.models import DateTimeField, F, Model, Q, QuerySet
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan, TupleLessThan

from hotlead.core.exceptions import ValidationFailed

MAX_DB_ID = 2**63 - 1
CURSOR_INVALID = "This cursor is not valid."

Row = TypeVar("Row", bound=Model)
KeyValue = datetime | int


def cursor_encode(*key: KeyValue) -> str:
    """The opaque cursor of a row whose ordering values are `key` (e.g. its created_at and id)."""
    raw = json.dumps([value.isoformat() if isinstance(value, datetime) else value for value in key])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _payload(value: str) -> list[Any]:
    if value.isascii() and value.isdigit():
        return [value]                                          # a bare id (lead sources, subscriptions)
    text = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
    if text.startswith("["):
        return json.loads(text)
    if "|" in text:
        return list(text.rpartition("|")[::2])                  # "<iso>|<id>" (ledger, inbox)
    return [text.partition(":")[2]]                             # "id:<id>" (dead letters), "p:<id>" (providers)


def _value(raw: Any, kind: type) -> KeyValue:
    if kind is datetime:
        at = datetime.fromisoformat(raw)
        if at.tzinfo is None:
            raise ValueError(raw)
        return at
    if isinstance(raw, bool) or not isinstance(raw, int | str) or (isinstance(raw, str) and not raw.isdigit()):
        raise ValueError(raw)
    number = int(raw)
    if not 0 < number <= MAX_DB_ID:
        raise ValueError(raw)
    return number


def cursor_decode(value: str, *kinds: type, message: str = CURSOR_INVALID) -> tuple[KeyValue, ...]:
    """The key a cursor names, one value per kind (`datetime` or `int`); anything else is a 422 on `cursor`."""
    try:
        raw = _payload(value)
        if not isinstance(raw, list) or len(raw) != len(kinds):
            raise ValueError(value)
        return tuple(_value(item, kind) for item, kind in zip(raw, kinds, strict=True))
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise ValidationFailed.for_field("cursor", message) from None


def _fields(order: Sequence[str]) -> tuple[list[str], bool]:
    names = [name.lstrip("-") for name in order]
    descending = {name.startswith("-") for name in order}
    if len(descending) != 1:
        raise ValueError(f"a keyset needs one direction for all of {order}")
    return names, descending.pop()


def keyset_after(qs: QuerySet, order: Sequence[str], key: Sequence[KeyValue]) -> QuerySet:
    """The rows strictly after `key` in `order` (all ascending or all descending)."""
    names, descending = _fields(order)
    if len(names) == 1:
        return qs.filter(Q(**{f"{names[0]}__{'lt' if descending else 'gt'}": key[0]}))
    # A row comparison, not "a < x OR (a = x AND b < y)": PostgreSQL turns it into an index bound.
    lookup = TupleLessThan if descending else TupleGreaterThan
    return qs.filter(lookup(Tuple(*(F(name) for name in names)), tuple(key)))


def cursor_kinds(model: type[Model], order: Sequence[str]) -> tuple[type, ...]:
    names, _ = _fields(order)
    return tuple(datetime if isinstance(model._meta.get_field(name), DateTimeField) else int for name in names)


def keyset_page(qs: QuerySet[Row], *, order: Sequence[str], cursor: str | None, limit: int,
                message: str = CURSOR_INVALID) -> tuple[list[Row], str | None]:
    """One page of `qs` in `order` after `cursor`, and the cursor of the next page (None on the last)."""
    if cursor:
        qs = keyset_after(qs, order, cursor_decode(cursor, *cursor_kinds(qs.model, order), message=message))
    rows = list(qs.order_by(*order)[: limit + 1])
    if len(rows) <= limit:
        return rows, None
    names, _ = _fields(order)
    return rows[:limit], cursor_encode(*(getattr(rows[limit - 1], name) for name in names))
