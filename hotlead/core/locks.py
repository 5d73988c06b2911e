"""The lock order: which rows a transaction may lock after which, written once, and checked in tests.

Every row lock (`SELECT … FOR UPDATE`) is taken by a function of its domain's `lock_objects.py`
(`hotlead/<domain>/lock_objects.py`), and each of those reports the lock here with `lock_taken(name, key)`.
Two transactions that take their locks in one global order never wait on each other in a circle, so the
order below is the whole deadlock argument (docs/decisions.md tells why each step sits where it does):

    credentials → configuration rows → provider → lead → its verification → assignment(s)
    → bad-lead report → payment → account + that provider's subscriptions (providers in id order)
    → the level's cursor (last, just before commit) → deliveries and bookkeeping rows

Three rules hold within one transaction (a lock taken with SKIP LOCKED or NOWAIT never waits, so it is
recorded but exempt):
1. a lock's rank is never below a rank already held (names on one line of LOCK_ORDER share a rank);
   taking again a row already held (same name and key) is always fine — it never waits;
2. accounts are locked in ascending provider id;
3. a provider's subscriptions are locked only under that provider's account lock.

The check runs when `settings.LOCK_ORDER_CHECK` is true (the test settings; DEBUG by default) and raises
`LockOrderViolation`; otherwise `lock_taken` returns at once. The transaction is the outermost atomic block
(in a test wrapped in a transaction, the first atomic block the code under test opened).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction

LOCK_ORDER: tuple[tuple[str, ...], ...] = (
    # A person's credentials, spent or checked before the rows they unlock (e-mail link → provider).
    ("refresh_token", "one_time_token", "totp_device"),
    # Configuration, each row changed on its own.
    ("rate_limit_override", "schedule", "auto_approval_rule", "category", "competition_level", "lead_source"),
    # E-mail events: a bounce marks the leads that used the address after locking its events.
    ("email_event",),
    # The marketplace, in the order of docs/decisions.md ("lead → assignment(s) → report → account").
    ("provider",),
    ("lead",),
    ("lead_verification",),
    ("assignment",),
    ("bad_lead_report",),
    ("payment",),
    ("account", "subscription"),
    ("level_cursor",),
    # Bookkeeping taken alone or after the business rows.
    ("webhook_endpoint", "webhook_delivery", "dead_letter", "export_job"),
)
LOCK_RANK: dict[str, int] = {name: rank for rank, names in enumerate(LOCK_ORDER) for name in names}
ASCENDING_KEYS = frozenset({"account"})
UNDER = {"subscription": "account"}  # a subscription lock's key is its provider id, the account lock's key


class LockOrderViolation(AssertionError):
    """A transaction took a lock out of the order of LOCK_ORDER (a deadlock waiting to happen)."""


@dataclass
class _Held:
    transaction_token: object
    scope: str | None
    locks: list[tuple[str, Any]] = field(default_factory=list)


def _scope(connection) -> tuple[object, str | None] | None:
    """(this transaction's token, the savepoint that opened it in a test) — None outside an atomic block."""
    for index, block in enumerate(connection.atomic_blocks):
        if not getattr(block, "_from_testcase", False):
            # run_on_commit is a new list for every transaction (Django replaces it at commit and rollback).
            return connection.run_on_commit, connection.savepoint_ids[index - 1] if index else None
    return None


def _held(connection) -> _Held | None:
    scope = _scope(connection)
    if scope is None:
        return None
    held = getattr(connection, "_hotlead_locks_held", None)
    if held is None or held.transaction_token is not scope[0] or held.scope != scope[1]:
        held = _Held(transaction_token=scope[0], scope=scope[1])
        connection._hotlead_locks_held = held
    return held


def _violation(name: str, key: Any, locks: list[tuple[str, Any]]) -> str | None:
    if (name, key) in locks and key is not None:
        return None                                          # re-entered: the row is ours already
    top = max((LOCK_RANK[held] for held, _ in locks), default=-1)
    if LOCK_RANK[name] < top:
        return f"{name} is ranked before locks already held"
    if name in ASCENDING_KEYS and key is not None:
        higher = [k for held, k in locks if held == name and k is not None and k > key]
        if higher:
            return f"{name} {key} after {name} {max(higher)} (ascending keys)"
    if name in UNDER and key is not None and (UNDER[name], key) not in locks:
        return f"{name} of {key} without its {UNDER[name]} lock"
    return None


def lock_taken(name: str, key: Any = None, *, waits: bool = True) -> None:
    """Record that this transaction now holds the `name` lock of row `key` (None: several or unnamed rows);
    `waits=False` for SKIP LOCKED / NOWAIT, which cannot wait in a circle."""
    if not getattr(settings, "LOCK_ORDER_CHECK", settings.DEBUG):
        return
    if name not in LOCK_RANK:
        raise LockOrderViolation(f"{name!r} is not in hotlead.core.locks.LOCK_ORDER")
    held = _held(transaction.get_connection())
    if held is None:
        return
    if waits and (problem := _violation(name, key, held.locks)):
        taken = " → ".join(f"{held_name}({held_key})" for held_name, held_key in held.locks)
        raise LockOrderViolation(f"lock order: {problem}; held: {taken}; see hotlead.core.locks.LOCK_ORDER")
    held.locks.append((name, key))
