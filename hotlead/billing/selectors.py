"""Reads of money: balances, ledger sums and the provider's billing history (keyset pagination)."""
from __future__ import annotations

from dataclasses import dataclass

from django.db import connections
from django.db.models import Sum

from hotlead.billing.models import Account, LedgerEntry
from hotlead.core.pagination import keyset_page

HISTORY_DEFAULT_LIMIT = 50
HISTORY_MAX_LIMIT = 200


def ledger_sum(*, provider_id: int) -> int:
    return LedgerEntry.objects.filter(account_id=provider_id).aggregate(total=Sum("amount_cents"))["total"] or 0


def balance_cents(*, provider_id: int) -> int:
    return Account.objects.filter(provider_id=provider_id).values_list("balance_cents", flat=True).first() or 0


def account_for_provider(*, provider_id: int) -> Account | None:
    return Account.objects.filter(provider_id=provider_id).select_related("provider").first()


def ledger_history(*, provider_id: int, cursor: str | None = None, limit: int = HISTORY_DEFAULT_LIMIT,
                   kind: str | None = None) -> tuple[list[LedgerEntry], str | None]:
    """A page of the provider's ledger, newest first; returns (entries, next_cursor or None)."""
    limit = max(1, min(limit, HISTORY_MAX_LIMIT))
    qs = LedgerEntry.objects.filter(account_id=provider_id)
    if kind:
        qs = qs.filter(kind=kind)
    return keyset_page(qs, order=("-created_at", "-id"), cursor=cursor, limit=limit,
                       message="The cursor is not valid; start again without it.")


# --- ledger verification (manage.py ledger_verify: after a restore, before traffic) --------------------

@dataclass(frozen=True)
class LedgerProblem:
    check: str
    provider_id: int | None
    detail: str


@dataclass(frozen=True)
class LedgerReport:
    accounts: int
    entries: int
    total_cents: int
    problems: list[LedgerProblem]

    @property
    def ok(self) -> bool:
        return not self.problems


# Each query returns (provider_id, detail) rows that break one rule the books always keep (architecture.md,
# "Money invariants"); set-based, one pass over each table.
_LEDGER_CHECKS: dict[str, str] = {
    "balance_equals_ledger_sum": """
        SELECT a.provider_id, 'cached balance ' || a.balance_cents || ' ≠ ledger sum ' || COALESCE(l.total, 0)
        FROM billing_account a
        LEFT JOIN (SELECT account_id, sum(amount_cents) AS total FROM billing_ledgerentry GROUP BY account_id) l
          ON l.account_id = a.provider_id
        WHERE a.balance_cents <> COALESCE(l.total, 0)""",
    "balance_not_negative": """
        SELECT provider_id, 'balance ' || balance_cents FROM billing_account WHERE balance_cents < 0""",
    "running_balance_chain": """
        SELECT account_id, 'entry ' || id || ': balance_after ' || balance_after_cents || ' ≠ running sum ' || running
        FROM (SELECT id, account_id, balance_after_cents,
                     sum(amount_cents) OVER (PARTITION BY account_id ORDER BY id) AS running
              FROM billing_ledgerentry) e
        WHERE balance_after_cents <> running""",
    "entry_sign_matches_kind": """
        SELECT account_id, 'entry ' || id || ': ' || kind || ' of ' || amount_cents
        FROM billing_ledgerentry
        WHERE (kind IN ('deposit', 'refund') AND amount_cents <= 0) OR (kind = 'charge' AND amount_cents >= 0)
           OR amount_cents = 0""",
    "refund_mirrors_its_charge": """
        SELECT r.account_id, 'refund ' || r.id || ' of ' || r.amount_cents || ' for charge ' || c.id || ' of '
               || c.amount_cents
        FROM billing_ledgerentry r JOIN billing_ledgerentry c ON c.id = r.refund_of_id
        WHERE r.amount_cents <> -c.amount_cents OR r.account_id <> c.account_id OR c.kind <> 'charge'""",
    "one_charge_per_sale": """
        SELECT x.provider_id, 'assignment ' || x.id || ' (lead ' || x.lead_id || '): '
               || CASE WHEN e.id IS NULL THEN 'no charge' ELSE 'charge of ' || e.amount_cents || ', price '
               || x.price_cents END
        FROM distribution_assignment x
        LEFT JOIN billing_ledgerentry e ON e.id = x.charge_entry_id
        WHERE e.id IS NULL OR e.amount_cents <> -x.price_cents OR e.account_id <> x.provider_id""",
}


def ledger_verify(*, using: str = "default", limit: int = 100) -> LedgerReport:
    """Check every rule of the books on one database (read-only); the first `limit` problems of each rule."""
    problems: list[LedgerProblem] = []
    with connections[using].cursor() as cursor:
        for check, sql in _LEDGER_CHECKS.items():
            cursor.execute(f"{sql} LIMIT %s", [limit])  # noqa: S608 - constant SQL
            problems += [LedgerProblem(check=check, provider_id=row[0], detail=row[1]) for row in cursor.fetchall()]
        cursor.execute("SELECT (SELECT count(*) FROM billing_account), count(*), COALESCE(sum(amount_cents), 0) "
                       "FROM billing_ledgerentry")
        accounts, entries, total = cursor.fetchone()
    return LedgerReport(accounts=accounts, entries=entries, total_cents=int(total), problems=problems)
