"""The comparison as a spreadsheet (openpyxl): summary, levels, unsold reasons, providers, funds running out."""
from __future__ import annotations

import io
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

from hotlead.simulator.report import HEADLINE

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    """Text from the market (company names) must never be evaluated by a spreadsheet (OWASP CSV injection)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _sheet(wb: Workbook, title: str, header: list[str], rows: list[list[Any]], *, first: bool = False) -> None:
    ws = wb.active if first else wb.create_sheet()
    ws.title = title
    ws.append(header)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append([_cell(v) for v in row])
    ws.column_dimensions["A"].width = 36


def report_xlsx(report: dict[str, Any], *, inputs: dict[str, Any] | None = None) -> bytes:
    base, scen = report["baseline"], report["scenario"]
    wb = Workbook()
    _sheet(wb, "Summary", ["Measure", "Baseline", "Scenario", "Change"],
           [[label, base[key], scen[key], scen[key] - base[key]] for key, label in HEADLINE], first=True)
    if inputs:
        ws = wb["Summary"]
        ws.append([])
        for key, value in inputs.items():
            ws.append([_cell(str(key)), _cell(str(value))])
    slugs = sorted(set(base["by_level"]) | set(scen["by_level"]))
    _sheet(wb, "Levels", ["Level", "Leads sold (baseline)", "Assignments (baseline)", "Revenue cents (baseline)",
                          "Leads sold (scenario)", "Assignments (scenario)", "Revenue cents (scenario)"],
           [[slug, *(side["by_level"].get(slug, {}).get(k, 0) for side in (base, scen)
                     for k in ("leads", "assignments", "revenue_cents"))] for slug in slugs])
    reasons = sorted(set(base["unsold_by_reason"]) | set(scen["unsold_by_reason"]))
    _sheet(wb, "Unsold", ["Reason", "Baseline", "Scenario"],
           [[r, base["unsold_by_reason"].get(r, 0), scen["unsold_by_reason"].get(r, 0)] for r in reasons])
    names = {p["provider"]: p for p in base["providers"]}
    scen_names = {p["provider"]: p for p in scen["providers"]}
    out_base = {o["provider"]: o["at"] for o in base["out_of_funds"]}
    out_scen = {o["provider"]: o["at"] for o in scen["out_of_funds"]}
    everyone = sorted(set(names) | set(scen_names) | set(out_base) | set(out_scen))
    _sheet(wb, "Providers", ["Provider", "Leads (baseline)", "Spend cents (baseline)", "Out of funds (baseline)",
                             "Leads (scenario)", "Spend cents (scenario)", "Out of funds (scenario)"],
           [[name, names.get(name, {}).get("leads", 0), names.get(name, {}).get("spend_cents", 0),
             out_base.get(name, ""), scen_names.get(name, {}).get("leads", 0),
             scen_names.get(name, {}).get("spend_cents", 0), out_scen.get(name, "")] for name in everyone])
    _sheet(wb, "Starving", ["Side", "Subscription"],
           [["baseline", s] for s in base["starving_subscriptions"]]
           + [["scenario", s] for s in scen["starving_subscriptions"]])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
