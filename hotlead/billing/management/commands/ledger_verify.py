"""`manage.py ledger_verify [--database ALIAS] [--json]`: prove the books balance (after a restore, a crash, a deploy).

Read-only. Checks every account's cached balance against its ledger sum, every entry's balance_after against
the running sum, signs by kind, refunds against their charges and one charge per sale. Exit status 0 when
every rule holds, 1 (CommandError) naming each problem otherwise.
"""
from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from hotlead.billing.selectors import ledger_verify


class Command(BaseCommand):
    help = "Verify the ledger: balances = ledger sums, running balances, refunds, one charge per sale."

    def add_arguments(self, parser):
        parser.add_argument("--database", default="default", help="the database alias to verify (default: default)")
        parser.add_argument("--json", action="store_true", help="print the report as JSON")

    def handle(self, *args, **options):
        report = ledger_verify(using=options["database"])
        if options["json"]:
            self.stdout.write(json.dumps({
                "ok": report.ok, "accounts": report.accounts, "entries": report.entries,
                "total_cents": report.total_cents,
                "problems": [{"check": p.check, "provider_id": p.provider_id, "detail": p.detail}
                             for p in report.problems]}, ensure_ascii=False))
        else:
            for problem in report.problems:
                self.stdout.write(f"PROBLEM {problem.check}: provider {problem.provider_id}: {problem.detail}")
            summary = (f"{report.accounts} accounts, {report.entries} ledger entries, "
                       f"{report.total_cents} cents held in total")
            if report.ok:
                self.stdout.write(self.style.SUCCESS(f"OK: the books balance ({summary})."))
        if not report.ok:
            raise CommandError(f"The books do not balance: {len(report.problems)} problem(s) "
                               f"({', '.join(sorted({p.check for p in report.problems}))}).")
