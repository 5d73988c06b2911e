"""Which rows each export holds (SPEC §10), with human column headers.

`source_for(...)` builds the `reports.exports.Source` of one export job. A provider's sources are filtered
by its id in SQL, so no other provider's row can reach its file.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from hotlead.distribution.selectors.kpis import provider_kpis
from reports import selectors
from reports.exports import Column, Source, money_header
from reports.ranges import DateRange
from reports.selectors import _table

if TYPE_CHECKING:
    from hotlead.providers.models import Provider


def _lead_columns(prefix: str = "l") -> list[Column]:
    return [
        Column("Lead ID", "text", f"{prefix}.public_id", 38),
        Column("Name", "text", f"{prefix}.name", 24),
        Column("E-mail", "text", f"{prefix}.email", 28),
        Column("Phone", "text", f"{prefix}.phone", 16),
        Column("Postal code", "text", f"{prefix}.postal_code", 12),
        Column("Category", "text", "c.name", 18),
        Column("Description", "text", f"{prefix}.description", 48),
        Column(money_header("Budget"), "money", f"{prefix}.budget_cents", 12),
        Column("Timeline", "text", f"{prefix}.timeline", 14),
    ]


def leads_admin(rng: DateRange) -> Source:
    columns = [
        Column("Submitted", "datetime", "l.created_at", 18),
        Column("Status", "text", "l.status", 16),
        *_lead_columns(),
        Column("Source", "text", "l.source", 12),
        Column("Buyers", "int", "l.buyers_count", 8),
        Column("Possible duplicate", "text", "CASE WHEN l.possible_duplicate THEN 'yes' ELSE 'no' END", 10),
    ]
    sql = (f"FROM {_table('leads.Lead')} l JOIN {_table('leads.Category')} c ON c.id = l.category_id "
           f"WHERE l.created_at >= %(start)s AND l.created_at < %(end)s ORDER BY l.created_at, l.id")
    return Source("Leads", columns, sql, {"start": rng.start, "end": rng.end})


def leads_provider(rng: DateRange, provider_id: int) -> Source:
    """The provider's leads: its assignments in the range with the lead's contact data."""
    columns = [
        Column("Assignment #", "int", "a.id", 12),
        Column("Received", "datetime", "a.assigned_at", 18),
        Column("Status", "text", "a.status", 12),
        Column("Level", "text", "lv.name", 16),
        Column(money_header("Price"), "money", "a.price_cents", 12),
        *_lead_columns(),
    ]
    sql = (f"FROM {_table('distribution.Assignment')} a JOIN {_table('leads.Lead')} l ON l.id = a.lead_id "
           f"JOIN {_table('leads.Category')} c ON c.id = a.category_id "
           f"JOIN {_table('levels.CompetitionLevel')} lv ON lv.id = a.level_id "
           f"WHERE a.provider_id = %(provider_id)s AND a.assigned_at >= %(start)s AND a.assigned_at < %(end)s "
           f"ORDER BY a.assigned_at, a.id")
    return Source("Leads", columns, sql, {"start": rng.start, "end": rng.end, "provider_id": provider_id})


def assignments_admin(rng: DateRange) -> Source:
    columns = [
        Column("Assignment #", "int", "a.id", 12),
        Column("Sold", "datetime", "a.assigned_at", 18),
        Column("Company", "text", "p.company_name", 24),
        Column("Provider #", "int", "p.id", 10),
        Column("Lead ID", "text", "l.public_id", 38),
        Column("Category", "text", "c.name", 18),
        Column("Level", "text", "lv.name", 16),
        Column(money_header("Price"), "money", "a.price_cents", 12),
        Column("Status", "text", "a.status", 12),
        Column("Accepted", "datetime", "a.accepted_at", 18),
        Column("Rejected", "datetime", "a.rejected_at", 18),
        Column("Refunded", "datetime", "a.refunded_at", 18),
    ]
    sql = (f"FROM {_table('distribution.Assignment')} a "
           f"JOIN {_table('providers.Provider')} p ON p.id = a.provider_id "
           f"JOIN {_table('leads.Lead')} l ON l.id = a.lead_id "
           f"JOIN {_table('leads.Category')} c ON c.id = a.category_id "
           f"JOIN {_table('levels.CompetitionLevel')} lv ON lv.id = a.level_id "
           f"WHERE a.assigned_at >= %(start)s AND a.assigned_at < %(end)s ORDER BY a.assigned_at, a.id")
    return Source("Assignments", columns, sql, {"start": rng.start, "end": rng.end})


def ledger(rng: DateRange, provider_id: int | None = None) -> Source:
    columns = [
        Column("Entry #", "int", "e.id", 10),
        Column("Date", "datetime", "e.created_at", 18),
        *([] if provider_id else [Column("Company", "text", "p.company_name", 24),
                                  Column("Provider #", "int", "p.id", 10)]),
        Column("Kind", "text", "e.kind", 12),
        Column(money_header("Amount"), "money", "e.amount_cents", 14),
        Column(money_header("Balance after"), "money", "e.balance_after_cents", 14),
        Column("Memo", "text", "e.memo", 36),
        Column("Reference", "text", "e.reference", 20),
    ]
    # the account's primary key is its provider's id: no join to reach the provider
    scope = "AND e.account_id = %(provider_id)s " if provider_id else ""
    sql = (f"FROM {_table('billing.LedgerEntry')} e JOIN {_table('providers.Provider')} p ON p.id = e.account_id "
           f"WHERE e.created_at >= %(start)s AND e.created_at < %(end)s {scope}ORDER BY e.created_at, e.id")
    params = {"start": rng.start, "end": rng.end, **({"provider_id": provider_id} if provider_id else {})}
    return Source("Ledger", columns, sql, params)


# --- small reports, computed by the selectors ---------------------------------------------------------------

def kpis_admin(rng: DateRange) -> Source:
    k = selectors.kpis(rng=rng)
    columns = [Column("From", "date"), Column("To", "date"), Column("Submitted", "int"), Column("Verified", "int"),
               Column("Approved", "int"), Column("Rejected", "int"), Column("Distributed", "int"),
               Column("Unsold", "int"), Column("Sell-through", "ratio"), Column("Buyers per lead", "number"),
               Column(money_header("Revenue"), "money"), Column(money_header("Refunds"), "money"),
               Column(money_header("Net"), "money")]
    row = (k["date_from"], k["date_to"], k["submitted"], k["verified"], k["approved"], k["rejected"],
           k["distributed"], k["unsold"], k["sell_through"], k["avg_buyers_per_lead"], k["revenue_cents"],
           k["refunds_cents"], k["net_cents"])
    return Source("KPIs", columns, rows=[row])


def kpis_provider(rng: DateRange, provider: Provider) -> Source:
    report = provider_kpis(provider_id=provider.pk, tz_name=provider.timezone, period="day",
                           date_from=rng.date_from, date_to=rng.date_to)
    columns = [Column("Day", "date", width=12), Column("Received", "int"), Column("Accepted", "int"),
               Column("Rejected", "int"), Column("Reported", "int"), Column("Refunded", "int"),
               Column(money_header("Spend"), "money"), Column(money_header("Refunded"), "money"),
               Column(money_header("Net spend"), "money"), Column(money_header("Average price"), "money")]
    rows = [(b.period_start, f.received, f.accepted, f.rejected, f.reported, f.refunded, f.spend_cents,
             f.refunded_cents, f.net_spend_cents, f.average_price_cents)
            for b in report.series for f in [b.figures]]
    return Source("KPIs", columns, rows=rows)


def funnel(rng: DateRange) -> Source:
    steps = selectors.funnel(rng=rng)["steps"]
    columns = [Column("Step", "text"), Column("Leads", "int"), Column("Conversion", "ratio")]
    return Source("Funnel", columns, rows=[(s["step"], s["count"], s["conversion"]) for s in steps])


def revenue(rng: DateRange, group_by: str) -> Source:
    report = selectors.revenue(rng=rng, group_by=group_by)
    key_column = Column(group_by.capitalize(), "text", width=14)
    columns = [key_column, Column("Assignments", "int"), Column(money_header("Charges"), "money"),
               Column(money_header("Refunds"), "money"), Column(money_header("Net"), "money")]
    rows = [(r["key"], r["assignments"], r["charges_cents"], r["refunds_cents"], r["net_cents"])
            for r in report["rows"]]
    t = report["total"]
    rows.append(("Total", t["assignments"], t["charges_cents"], t["refunds_cents"], t["net_cents"]))
    return Source("Revenue", columns, rows=rows)


def starvation(days: int) -> Source:
    items = selectors.starvation(days=days)["items"]
    columns = [Column("Company", "text", width=24), Column("Provider #", "int"), Column("Subscription #", "int"),
               Column("Level", "text"), Column("Last lead", "datetime", width=18),
               Column("Eligible leads missed", "int")]
    rows = [(i["company_name"], i["provider_id"], i["subscription_id"], i["level"], i["last_assigned_at"],
             i["eligible_leads_missed"]) for i in items]
    return Source("Starving subscriptions", columns, rows=rows)


def flags() -> Source:
    items = selectors.provider_flags()["items"]
    columns = [Column("Company", "text", width=24), Column("Provider #", "int"), Column("Assignments", "int"),
               Column("Return rate", "ratio"), Column("Reject rate", "ratio"), Column("Flagged", "text"),
               Column("Reason", "text", width=60)]
    rows = [(i["company_name"], i["provider_id"], i["assignments"], i["return_rate"], i["reject_rate"],
             "yes" if i["flagged"] else "no", i["flagged_reason"]) for i in items]
    return Source("Flagged providers", columns, rows=rows)


def source_for(*, report: str, rng: DateRange, params: dict, provider: Provider | None = None) -> Source:
    if provider is not None:
        if report == "kpis":
            return kpis_provider(rng, provider)
        if report == "leads":
            return leads_provider(rng, provider.pk)
        if report == "ledger":
            return ledger(rng, provider.pk)
        raise ValueError(f"Providers cannot export {report!r}")
    if report == "kpis":
        return kpis_admin(rng)
    if report == "funnel":
        return funnel(rng)
    if report == "revenue":
        return revenue(rng, params.get("group_by", "day"))
    if report == "starvation":
        return starvation(int(params.get("days", selectors.STARVATION_DEFAULT_DAYS)))
    if report == "flags":
        return flags()
    if report == "leads":
        return leads_admin(rng)
    if report == "assignments":
        return assignments_admin(rng)
    if report == "ledger":
        return ledger(rng)
    raise ValueError(f"Unknown report {report!r}")
