# ruff: noqa: S608 - the SQL is assembled from constants and table names only; every value is a parameter.
"""What eligibility and the engine know of a lead, a level and the market (the live levels)."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from django.db import connection

from hotlead.leads.models import Lead
from hotlead.levels.models import CompetitionLevel

POSTAL_CODE_MAX = Lead._meta.get_field("postal_code").max_length


@dataclass(frozen=True)
class LeadFacts:
    """What eligibility needs to know about a lead (filters see these fields, SPEC §4.4)."""

    id: int
    category_id: int
    category: str
    postal_code: str
    budget_cents: int | None
    timeline: str | None
    source: str | None

    def filter_doc(self) -> dict:
        values = {
            "category": self.category, "postal_code": self.postal_code, "budget_cents": self.budget_cents,
            "timeline": self.timeline, "source": self.source,
        }
        return {k: v for k, v in values.items() if v not in (None, "")}


@dataclass(frozen=True)
class LevelFacts:
    id: int
    slug: str
    name: str
    price_cents: int
    max_recipients: int


@dataclass(frozen=True)
class Candidate:
    subscription_id: int
    provider_id: int
    last_served_at: datetime | None
    capped: bool  # has a lead or spend cap: re-checked under a lock on the subscription row
    # the provider's balance as this read saw it: a different balance under the account lock means a
    # concurrent transaction moved the account (most often: sold this provider a lead) since the read
    balance_cents: int | None = None


_ASCII_SPACE = " \t\n\r\f\v"
_ASCII_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", _ASCII_SPACE)
# the same in SQL (sale_sql uses it): ASCII only, so both engines agree on any stored value (intake only
# ever stores [A-Z0-9-]; a row written by hand with other characters is matched as written)
POSTAL_CODE_SQL = (r"translate(regexp_replace({col}, '[ \t\n\r\f\v]', '', 'g'), "
                   r"'abcdefghijklmnopqrstuvwxyz', 'ABCDEFGHIJKLMNOPQRSTUVWXYZ')")


def postal_code_normalise(value: str | None) -> str:
    """The postal code as eligibility compares it: ASCII white space removed, ASCII letters upper-cased."""
    return (value or "").translate(_ASCII_UPPER)


def lead_facts_of(lead) -> LeadFacts:
    return LeadFacts(
        id=lead.pk, category_id=lead.category_id, category=lead.category.slug,
        postal_code=postal_code_normalise(lead.postal_code), budget_cents=lead.budget_cents,
        timeline=lead.timeline or None, source=lead.source or None,
    )


@dataclass(frozen=True)
class Market:
    levels: list[LevelFacts]  # the live, active levels by rank: the walk (SPEC §4.2)
    max_live_price_cents: int  # the dearest live level, active or not


def _market_of(rows) -> Market:
    rows = list(rows)
    return Market(levels=[LevelFacts(*row[:5]) for row in rows if row[5]],
                  max_live_price_cents=max((row[3] for row in rows), default=0))


def levels_to_walk() -> list[LevelFacts]:
    """The live, active levels by rank (SPEC §4.2)."""
    return market_read().levels


def market_read() -> Market:
    rows = (CompetitionLevel.objects.filter(archived_at__isnull=True).order_by("rank", "id")
            .values_list("id", "slug", "name", "price_cents", "max_recipients", "active"))
    return _market_of(rows)


def market_sql() -> str:
    """A scalar subquery (JSON text) of the live levels, so the engine reads them with the lead's lock."""
    table = CompetitionLevel._meta.db_table
    if connection.vendor == "postgresql":
        return (f"SELECT COALESCE(json_agg(json_build_array(id, slug, name, price_cents, max_recipients, active) "
                f"ORDER BY rank, id), '[]')::text FROM {table} WHERE archived_at IS NULL")
    return (f"SELECT json_group_array(json_array(id, slug, name, price_cents, max_recipients, active)) "
            f"FROM (SELECT * FROM {table} WHERE archived_at IS NULL ORDER BY rank, id)")


def market_parse(text: str) -> Market:
    return _market_of(json.loads(text))
