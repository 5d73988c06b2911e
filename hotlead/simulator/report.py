"""What a simulated side produced, and the comparison report (SPEC §10.1): revenue, refunds, sell-through,
buyers per lead, unsold by reason, per-provider spend and leads, fairness, starvation, funds running out.

Pure Python over rows read back from the simulated runs: no query here.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hotlead.distribution.enums import SkipReason
from hotlead.leads.enums import LeadStatus

# the order the engine checks (SPEC §4.1): the furthest reason reached says what stopped the closest candidate
REASON_ORDER = [r.value for r in SkipReason]
NO_SUBSCRIPTION = "no_subscription"


@dataclass
class SideOutcome:
    start: datetime
    end: datetime
    leads: dict[int, tuple[str, str]]  # lead key → (final status, category slug)
    # (lead key, provider id, subscription id, level slug, price, charged cents, balance after, assigned at)
    sales: list[tuple]
    traces: dict[int, dict]  # lead key → the trace of its last run
    subscriptions: list[tuple]  # (id, provider id, level slug, level price, level active), not cancelled
    categories: dict[int, set[str]]  # provider id → category slugs served
    labels: dict[int, str]
    levels: list[dict]
    deposits_cents: int
    return_rate: float

    def assignments_by_lead(self) -> dict[int, list[tuple[int, str, int]]]:
        """lead key → [(provider id, level slug, charged cents)], in provider order: the lead-by-lead record."""
        out: dict[int, list] = defaultdict(list)
        for key, provider_id, _sub, slug, _price, charged, _after, _at in self.sales:
            out[key].append((provider_id, slug, charged))
        return {key: sorted(rows) for key, rows in out.items()}


def gini(values: list[int]) -> float:
    """0 = perfectly even, towards 1 = one takes all."""
    n, total = len(values), sum(values)
    if n < 2 or total == 0:
        return 0.0
    ordered = sorted(values)
    weighted = sum((2 * i - n - 1) * x for i, x in enumerate(ordered, start=1))
    return weighted / (n * total)


def _unsold_reason(trace: dict | None) -> str:
    furthest = -1
    for level in (trace or {}).get("levels", []):
        for reason, count in (level.get("skipped") or {}).items():
            if count and reason in REASON_ORDER:
                furthest = max(furthest, REASON_ORDER.index(reason))
    return REASON_ORDER[furthest] if furthest >= 0 else NO_SUBSCRIPTION


def _fairness(side: SideOutcome) -> dict[str, Any]:
    """Gini and spread of leads among comparable subscriptions: the same level, serving the lead's category."""
    received: Counter = Counter()
    category_of = {key: category for key, (_status, category) in side.leads.items()}
    for key, _provider, sub_id, _slug, *_ in side.sales:
        received[(sub_id, category_of.get(key))] += 1
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for sub_id, provider_id, slug, _price, _active in side.subscriptions:
        for category in side.categories.get(provider_id, ()):
            groups[(slug, category)].append(received[(sub_id, category)])
    weighted, members, spread, worst = 0.0, 0, 0, None
    for group, counts in sorted(groups.items()):
        if len(counts) < 2 or not any(counts):
            continue
        weighted += gini(counts) * len(counts)
        members += len(counts)
        if max(counts) - min(counts) > spread:
            spread, worst = max(counts) - min(counts), f"{group[0]} / {group[1]}"
    return {"gini": round(weighted / members, 4) if members else 0.0, "max_spread": spread,
            "max_spread_group": worst, "comparable_groups": sum(1 for c in groups.values() if len(c) >= 2)}


def _waits(side: SideOutcome) -> dict[str, Any]:
    """The longest time a subscription that was served went without a lead, from the start to the end."""
    times: dict[int, list[datetime]] = defaultdict(list)
    for _key, _provider, sub_id, _slug, _price, _charged, _after, at in side.sales:
        times[sub_id].append(at)
    provider_of = {sub_id: provider_id for sub_id, provider_id, *_ in side.subscriptions}
    longest, who = 0.0, None
    for sub_id, stamps in times.items():
        points = [side.start, *sorted(stamps), side.end]
        gap = max((b - a).total_seconds() for a, b in zip(points, points[1:], strict=False))
        if gap > longest:
            longest, who = gap, side.labels.get(provider_of.get(sub_id), str(provider_of.get(sub_id)))
    return {"longest_wait_hours": round(longest / 3600, 2), "longest_wait_provider": who}


def _starving(side: SideOutcome) -> list[str]:
    """Providers eligible at a level for at least one lead who got no lead at that level at all."""
    eligible: set[tuple[int, str]] = set()
    for trace in side.traces.values():
        for level in trace.get("levels", []):
            for provider_id in level.get("eligible_providers") or []:
                eligible.add((provider_id, level.get("level")))
    served = {(provider_id, slug) for _k, provider_id, _s, slug, *_ in side.sales}
    return sorted(f"{side.labels.get(p, p)} @ {slug}" for p, slug in eligible - served)


def _out_of_funds(side: SideOutcome) -> list[dict[str, Any]]:
    """When a buyer's balance after a charge no longer covered its cheapest live subscription."""
    cheapest: dict[int, int] = {}
    for _sub, provider_id, _slug, price, active in side.subscriptions:
        if active:
            cheapest[provider_id] = min(price, cheapest.get(provider_id, price))
    seen: set[int] = set()
    out = []
    for _key, provider_id, _sub, _slug, _price, _charged, after, at in side.sales:
        if provider_id in seen or provider_id not in cheapest:
            continue
        if after < cheapest[provider_id]:
            seen.add(provider_id)
            out.append({"provider": side.labels.get(provider_id, str(provider_id)),
                        "at": at.isoformat(), "balance_cents": after})
    return out


def side_summary(side: SideOutcome) -> dict[str, Any]:
    leads = len(side.leads)
    sold = sum(1 for status, _ in side.leads.values() if status == LeadStatus.DISTRIBUTED)
    revenue = sum(charged for *_, charged, _after, _at in side.sales)
    refunds = round(revenue * side.return_rate)
    unsold_reasons = Counter(_unsold_reason(side.traces.get(key)) for key, (status, _) in side.leads.items()
                             if status != LeadStatus.DISTRIBUTED)
    by_level: dict[str, dict[str, int]] = {lv["slug"]: {"leads": 0, "assignments": 0, "revenue_cents": 0}
                                           for lv in side.levels}
    sold_at: dict[int, str] = {}
    per_provider: dict[int, dict[str, Any]] = {}
    for key, provider_id, _sub, slug, _price, charged, _after, _at in side.sales:
        row = by_level.setdefault(slug, {"leads": 0, "assignments": 0, "revenue_cents": 0})
        row["assignments"] += 1
        row["revenue_cents"] += charged
        sold_at[key] = slug
        p = per_provider.setdefault(provider_id, {"provider": side.labels.get(provider_id, str(provider_id)),
                                                  "leads": 0, "spend_cents": 0})
        p["leads"] += 1
        p["spend_cents"] += charged
    for slug in sold_at.values():
        by_level[slug]["leads"] += 1
    out_of_funds = _out_of_funds(side)
    starving = _starving(side)
    return {
        "leads": leads,
        "sold": sold,
        "unsold": leads - sold,
        "assignments": len(side.sales),
        "revenue_cents": revenue,
        "refunds_cents": refunds,
        "net_cents": revenue - refunds,
        "return_rate": round(side.return_rate, 4),
        "sell_through": round(sold / leads, 4) if leads else 0.0,
        "avg_buyers_per_lead": round(len(side.sales) / sold, 3) if sold else 0.0,
        "deposits_cents": side.deposits_cents,
        "unsold_by_reason": dict(sorted(unsold_reasons.items())),
        "by_level": by_level,
        "levels": side.levels,
        **_fairness(side),
        **_waits(side),
        "starving": len(starving),
        "starving_subscriptions": starving,
        "providers_out_of_funds": len(out_of_funds),
        "out_of_funds": out_of_funds,
        "providers": sorted(per_provider.values(), key=lambda p: (-p["spend_cents"], p["provider"])),
    }


def report_build(*, baseline: SideOutcome, scenario: SideOutcome) -> dict[str, Any]:
    return {"baseline": side_summary(baseline), "scenario": side_summary(scenario)}


HEADLINE = [("leads", "Leads"), ("sold", "Sold"), ("unsold", "Unsold"), ("assignments", "Assignments"),
            ("revenue_cents", "Revenue (cents)"), ("refunds_cents", "Refunds (cents, observed rate)"),
            ("net_cents", "Net (cents)"), ("sell_through", "Sell-through"),
            ("avg_buyers_per_lead", "Avg buyers per lead"), ("deposits_cents", "Deposits during run (cents)"),
            ("gini", "Gini (comparable subscriptions)"), ("max_spread", "Max spread (leads)"),
            ("longest_wait_hours", "Longest wait (hours)"), ("starving", "Starving subscriptions"),
            ("providers_out_of_funds", "Providers out of funds")]


def report_text(report: dict[str, Any]) -> str:
    """Baseline beside scenario, for a terminal."""
    base, scen = report["baseline"], report["scenario"]
    lines = [f"{'':34} {'baseline':>14} {'scenario':>14} {'change':>12}"]
    for key, label in HEADLINE:
        a, b = base[key], scen[key]
        change = b - a
        fmt = (lambda v: f"{v:.4f}") if isinstance(a, float) or isinstance(b, float) else (lambda v: f"{v:,}")
        lines.append(f"{label:34} {fmt(a):>14} {fmt(b):>14} {('+' if change > 0 else '') + fmt(change):>12}")
    reasons = sorted(set(base["unsold_by_reason"]) | set(scen["unsold_by_reason"]))
    if reasons:
        lines.append("\nUnsold by reason")
        for reason in reasons:
            lines.append(f"  {reason:32} {base['unsold_by_reason'].get(reason, 0):>14,} "
                         f"{scen['unsold_by_reason'].get(reason, 0):>14,}")
    lines.append("\nBy level (leads sold / revenue cents)")
    for slug in sorted(set(base["by_level"]) | set(scen["by_level"])):
        a, b = base["by_level"].get(slug, {}), scen["by_level"].get(slug, {})
        lines.append(f"  {slug:32} {a.get('leads', 0):>6,} / {a.get('revenue_cents', 0):>10,}"
                     f"   {b.get('leads', 0):>6,} / {b.get('revenue_cents', 0):>10,}")
    for name, side in (("baseline", base), ("scenario", scen)):
        if side["out_of_funds"]:
            lines.append(f"\nOut of funds ({name}): " + ", ".join(
                f"{o['provider']} at {o['at'][:16]}" for o in side["out_of_funds"][:10])
                + (" …" if len(side["out_of_funds"]) > 10 else ""))
    top = {p["provider"]: p for p in base["providers"][:10]}
    scen_by = {p["provider"]: p for p in scen["providers"]}
    if top:
        lines.append("\nTop providers by baseline spend (leads, spend cents: baseline → scenario)")
        for name, p in top.items():
            q = scen_by.get(name, {"leads": 0, "spend_cents": 0})
            lines.append(f"  {name[:32]:32} {p['leads']:>5} {p['spend_cents']:>10,} → {q['leads']:>5} "
                         f"{q['spend_cents']:>10,}")
    return "\n".join(lines)
