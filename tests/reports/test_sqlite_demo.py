"""The demo runs on SQLite (scripts/run): the dashboard, every report and every export must work there too."""
from __future__ import annotations

from tests.test_setup_contract import run_django

SCRIPT = r"""
import django; django.setup()
from pathlib import Path
from django.core.management import call_command
from django.test import Client
call_command("migrate", verbosity=0)
call_command("demo_seed", verbosity=0)
from reports import dashboard, selectors, sources
from reports.exports import write_export
from reports.ranges import report_range
rng = report_range()
k = selectors.kpis(rng=rng)
assert k["submitted"] == 10, k
assert sum(r["charges_cents"] for r in selectors.revenue(rng=rng, group_by="day")["rows"]) == k["revenue_cents"]
selectors.funnel(rng=rng); selectors.starvation(); selectors.provider_flags(); dashboard.dashboard()
out = Path(django.conf.settings.EXPORTS_ROOT)
for src in (sources.ledger(rng), sources.leads_admin(rng), sources.assignments_admin(rng), sources.kpis_admin(rng),
            sources.revenue(rng, "level"), sources.starvation(7), sources.flags()):
    for fmt in ("csv", "xlsx"):
        write_export(source=src, fmt=fmt, path=out / f"{src.title}.{fmt}")
text = (out / "Ledger.csv").read_text(encoding="utf-8-sig")
assert text.startswith("Entry #,Date,Company") and ",deposit,600.00," in text, text[:300]
print("demo reports ok")
"""


def test_reports_and_exports_work_on_the_sqlite_demo(tmp_path):
    result = run_django(["-c", SCRIPT], env={"DEBUG": "1"}, tmp_path=tmp_path, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "demo reports ok" in result.stdout
