"""manage.py ledger_verify: a clean ledger (and a pg_dump restore of it) passes; tampering is reported."""
import os
import subprocess
import sys
import uuid
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from hotlead.billing.models import Account, LedgerEntry
from hotlead.billing.services.ledger import deposit_post, refund_post
from hotlead.distribution.services.engine import lead_distribute
from tests.distribution.conftest import approved_lead, make_level, seller

ROOT = Path(__file__).resolve().parents[2]


def _books():
    """Deposits, sales (charges) and a refund: every kind of movement."""
    level = make_level("shared", rank=1, price_cents=2_500, max_recipients=2)
    buyers = [seller(level, balance=50_000) for _ in range(2)]
    for _ in range(3):
        lead_distribute(lead_id=approved_lead().pk, trigger="approval")
    charge = LedgerEntry.objects.filter(kind="charge").first()
    refund_post(charge=charge, memo="bad lead")
    deposit_post(provider_id=buyers[0].provider_id, amount_cents=7_000, key="topup-1")
    return buyers


def _verify(*args) -> str:
    out = StringIO()
    call_command("ledger_verify", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_clean_books_pass():
    _books()
    output = _verify()
    assert output.startswith("OK: the books balance (2 accounts, 10 ledger entries, 94500 cents")


@pytest.mark.django_db
def test_a_tampered_balance_is_reported_with_its_account():
    buyer = _books()[1]
    Account.objects.filter(pk=buyer.provider_id).update(balance_cents=999_999)  # an UPDATE outside billing
    with pytest.raises(CommandError, match="balance_equals_ledger_sum"):
        _verify()
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("ledger_verify", stdout=out)
    assert f"PROBLEM balance_equals_ledger_sum: provider {buyer.provider_id}: cached balance 999999 ≠ ledger sum" \
        in out.getvalue()


@pytest.mark.django_db
def test_an_entry_slipped_in_with_a_made_up_balance_is_reported():
    buyer = _books()[0]
    account = Account.objects.get(pk=buyer.provider_id)
    # a deposit written by hand, the cached balance moved to match: the sum agrees, the running balance does not
    LedgerEntry.objects.create(account=account, kind="deposit", amount_cents=100, balance_after_cents=1,
                               idempotency_key="by-hand")
    Account.objects.filter(pk=account.pk).update(balance_cents=account.balance_cents + 100)
    with pytest.raises(CommandError, match="running_balance_chain"):
        _verify()


@pytest.mark.django_db
def test_a_sale_without_its_charge_is_reported():
    _books()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE distribution_assignment SET price_cents = price_cents + 1 "
                       "WHERE id = (SELECT min(id) FROM distribution_assignment)")
    with pytest.raises(CommandError, match="one_charge_per_sale"):
        _verify("--json")


@pytest.mark.django_db(transaction=True)
def test_a_pg_dump_restore_passes_and_a_tampered_restore_does_not(tmp_path):
    # given: books, dumped and restored into a new database as a backup would be
    _books()
    settings = connection.settings_dict
    restored = f"{settings['NAME']}_restore_{uuid.uuid4().hex[:6]}"
    pg = ["-h", settings["HOST"] or "127.0.0.1", "-p", str(settings["PORT"] or 5432), "-U", settings["USER"]]
    env = {**os.environ, "PGPASSWORD": settings["PASSWORD"] or ""}
    dump = tmp_path / "hotlead.dump"
    subprocess.run(["pg_dump", *pg, "--format=custom", "--file", str(dump), settings["NAME"]], check=True, env=env)
    subprocess.run(["createdb", *pg, restored], check=True, env=env)
    try:
        subprocess.run(["pg_restore", *pg, "--no-owner", "--dbname", restored, str(dump)], check=True, env=env)
        auth = settings["USER"] + (f":{settings['PASSWORD']}" if settings["PASSWORD"] else "")
        run_env = {**env, "DATABASE_URL": f"postgres://{auth}@{pg[1]}:{pg[3]}/{restored}",
                   "DJANGO_SETTINGS_MODULE": "hotlead.settings.test"}

        def verify():
            return subprocess.run([sys.executable, "manage.py", "ledger_verify"], cwd=ROOT, env=run_env,
                                  capture_output=True, text=True)

        # when / then: the restored books balance
        clean = verify()
        assert clean.returncode == 0, clean.stdout + clean.stderr
        assert "OK: the books balance (2 accounts, 10 ledger entries, 94500 cents" in clean.stdout
        # and a restore that lost the newest ledger entries (a partial backup) does not
        subprocess.run(["psql", *pg, "-d", restored, "-qc",
                        "ALTER TABLE billing_ledgerentry DISABLE TRIGGER USER; "
                        "DELETE FROM billing_ledgerentry WHERE idempotency_key = 'topup-1'"], check=True, env=env)
        broken = verify()
        assert broken.returncode == 1
        assert "PROBLEM balance_equals_ledger_sum" in broken.stdout
    finally:
        subprocess.run(["dropdb", *pg, "--force", restored], env=env, capture_output=True)
