"""`manage.py simulate synthetic|replay …`: what-if runs through the real engine; nothing real is written.

    manage.py simulate synthetic --providers 200 --leads 2000 --seed 7 [--days 14] [--scenario FILE] [--json]
    manage.py simulate replay --from 2026-11-01 --to 2026-11-30 [--scenario FILE] [--json] [--xlsx OUT.xlsx]
"""
from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta

from django.core.management.base import BaseCommand, CommandError

from hotlead.core.exceptions import ApplicationError
from hotlead.simulator.exports import report_xlsx
from hotlead.simulator.report import report_text
from hotlead.simulator.scenario import scenario_load
from hotlead.simulator.services.simulate import simulate_replay, simulate_synthetic


def _day(value: str) -> datetime:
    try:
        return datetime.combine(datetime.strptime(value, "%Y-%m-%d").date(), time.min, tzinfo=UTC)
    except ValueError as exc:
        raise CommandError(f"'{value}' is not a date (YYYY-MM-DD).") from exc


class Command(BaseCommand):
    help = "Simulate a synthetic market or replay a date range under a scenario; compare with the baseline."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="source", required=True)
        syn = sub.add_parser("synthetic", help="A seeded synthetic market.")
        syn.add_argument("--providers", type=int, required=True)
        syn.add_argument("--leads", type=int, required=True)
        syn.add_argument("--seed", type=int, required=True)
        syn.add_argument("--days", type=int, default=14, help="Days the leads arrive over (default 14).")
        rep = sub.add_parser("replay", help="The leads approved in a date range, replayed.")
        rep.add_argument("--from", dest="date_from", required=True, help="First day (YYYY-MM-DD, UTC).")
        rep.add_argument("--to", dest="date_to", required=True, help="Last day, inclusive (YYYY-MM-DD, UTC).")
        for p in (syn, rep):
            p.add_argument("--scenario", help="A JSON (or YAML) scenario file.")
            p.add_argument("--json", action="store_true", help='Print {"baseline": {...}, "scenario": {...}}.')
            p.add_argument("--xlsx", help="Also write the comparison to this .xlsx file.")

    def handle(self, *args, **options):
        try:
            scenario = scenario_load(options["scenario"]) if options.get("scenario") else None
            if options["source"] == "synthetic":
                result = simulate_synthetic(providers=options["providers"], leads=options["leads"],
                                            seed=options["seed"], days=options["days"], scenario=scenario)
                inputs = {k: options[k] for k in ("providers", "leads", "seed", "days")}
            else:
                start = _day(options["date_from"])
                end = _day(options["date_to"]) + timedelta(days=1)
                result = simulate_replay(start=start, end=end, scenario=scenario)
                inputs = {"from": options["date_from"], "to": options["date_to"]}
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        inputs["scenario"] = json.dumps(scenario or {}, sort_keys=True)
        if options.get("xlsx"):
            with open(options["xlsx"], "wb") as fh:
                fh.write(report_xlsx(result.report, inputs=inputs))
        if options["json"]:
            self.stdout.write(json.dumps(result.report, sort_keys=True, default=str))
            return
        self.stdout.write(report_text(result.report))
        self.stdout.write(f"\n{len(result.baseline.leads):,} leads per side, "
                          f"{result.elapsed_s:.1f} s (nothing was written).")
