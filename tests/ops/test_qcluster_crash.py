"""A real `manage.py qcluster` SIGKILLed mid-distribution, then restarted: nothing lost, nothing doubled.

Runs the production job settings (hotlead/settings/test.py, HOTLEAD_TEST_REAL_CLUSTER) on both brokers, with
the recovery clocks shortened so the test takes under a minute per broker: the ORM broker's `retry` is 15 s
(60+90 in production) and an approved lead (or a lost e-mail) is re-queued after 5 s instead of 60 s (300 s).
The whole process group is killed (the cluster's workers, pusher and monitor with it), as a crashed host would
be. Reviewers approve leads from another process meanwhile, through `lead_approve`.
"""
from __future__ import annotations

import email
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
from django.db import connection
from django.db.models import Sum
from django.utils import timezone
from django_q.models import OrmQ, Schedule

from hotlead.billing.models import Account, LedgerEntry
from hotlead.distribution.models import Assignment, DistributionRun
from hotlead.leads.enums import LeadStatus
from hotlead.leads.models import Lead
from hotlead.notifications.models import EmailEvent, EmailStatus
from hotlead.ops.services import schedules_sync
from tests.distribution.conftest import make_level, seller
from tests.factories.accounts import StaffFactory
from tests.factories.leads import CategoryFactory, LeadFactory

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
LEADS = 120
DRAIN_DEADLINE_SECONDS = 120


def _database_url() -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def _redis_url() -> str | None:
    url = os.environ.get("HOTLEAD_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    try:
        import redis

        redis.from_url(url, socket_connect_timeout=1).ping()
    except Exception:  # noqa: BLE001
        return None
    return url


class Cluster:
    """`manage.py qcluster` in its own process group, on the test database."""

    def __init__(self, env: dict, log: Path):
        self.env, self.log, self.proc = env, log, None

    def start(self) -> None:
        self.proc = subprocess.Popen([sys.executable, "manage.py", "qcluster"], cwd=ROOT, env=self.env,
                                     stdout=self.log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True)

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        if self.proc:  # the group: children a SIGKILLed parent left behind
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def _settled() -> int:
    return Lead.objects.filter(status__in=[LeadStatus.DISTRIBUTED, LeadStatus.UNSOLD]).count()


def _wait(condition, *, deadline: float, what: str, poll: float = 0.05) -> None:
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(poll)  # polling a real process, not a fixed sleep


def _mail_sent(mail_dir: Path) -> Counter:
    """(recipient, subject, text) of every message the file backend wrote (one file per connection): the text
    names the lead or the assignment, so two messages with one key are one e-mail event sent twice."""
    sent = Counter()
    for path in mail_dir.glob("*"):
        for chunk in path.read_text().split("\n" + "-" * 79 + "\n"):
            if chunk.strip():
                message = email.message_from_string(chunk)
                text = next(part for part in message.walk() if part.get_content_type() == "text/plain")
                sent[(message["To"], " ".join(message["Subject"].split()),
                      text.get_payload(decode=True).decode())] += 1
    return sent


@pytest.mark.parametrize("broker", ["orm", "redis"])
def test_a_worker_killed_mid_distribution_loses_and_doubles_nothing(broker, tmp_path):
    # given: a marketplace (4 buyers on a 3-recipient level, one who can afford only 5 leads) and leads in review
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "hotlead.settings.test", "HOTLEAD_TEST_REAL_CLUSTER": "1",
           "DATABASE_URL": _database_url(), "HOTLEAD_TEST_Q_NAME": f"crash-{uuid.uuid4().hex[:8]}",
           "HOTLEAD_TEST_Q_TIMEOUT": "10", "HOTLEAD_TEST_Q_RETRY": "15", "HOTLEAD_TEST_RECOVERY_SECONDS": "5",
           "HOTLEAD_TEST_MAIL_DIR": str(tmp_path / "mail"), "Q_WORKERS": "2"}
    env.pop("REDIS_URL", None)
    if broker == "redis":
        redis_url = _redis_url()
        if redis_url is None:
            pytest.skip("no Redis server answers at HOTLEAD_TEST_REDIS_URL (redis://127.0.0.1:6379/0)")
        env["REDIS_URL"] = redis_url
    (tmp_path / "mail").mkdir()
    roofing = CategoryFactory(slug="roofing", name="Roofing")
    level = make_level("shared", rank=1, price_cents=2_500, max_recipients=3)
    for balance in (10_000_000, 10_000_000, 10_000_000, 12_500):
        seller(level, balance=balance, categories=[roofing])
    staff = StaffFactory()
    leads = [LeadFactory(category=roofing, email=f"submitter{i}@example.org") for i in range(LEADS)]
    schedules_sync()
    Schedule.objects.filter(name__startswith="hotlead.").update(next_run=timezone.now())  # first tick runs them
    cluster = Cluster(env, tmp_path / "qcluster.log")
    approver = None
    try:
        cluster.start()
        approver = subprocess.Popen([sys.executable, "-m", "tests.ops.crash_drive", str(staff.pk),
                                     *[str(lead.pk) for lead in leads]], cwd=ROOT, env=env,
                                    stdout=(tmp_path / "approve.log").open("wb"), stderr=subprocess.STDOUT)
        # when: the worker dies (SIGKILL, the whole process group) with the distribution under way
        deadline = time.monotonic() + 60
        _wait(lambda: _settled() >= LEADS // 5, deadline=deadline, what="the cluster to start selling")
        cluster.kill()
        killed_at, settled_at_kill = time.monotonic(), _settled()
        assert settled_at_kill < LEADS, "the run ended before the kill: nothing was interrupted"
        assert approver.wait(timeout=60) == 0, (tmp_path / "approve.log").read_text()[-3000:]
        # and comes back (the recurring schedules due at once, as after a long outage)
        Schedule.objects.filter(name__startswith="hotlead.").update(next_run=timezone.now())
        cluster.start()
        deadline = time.monotonic() + DRAIN_DEADLINE_SECONDS

        def drained() -> bool:
            return (_settled() == LEADS
                    and not EmailEvent.objects.filter(status=EmailStatus.QUEUED).exists()
                    and EmailEvent.objects.filter(template="lead_outcome").count() == LEADS)

        _wait(drained, deadline=deadline, what="every lead and e-mail to be handled", poll=0.25)
        recovered_in = time.monotonic() - killed_at
        drained_at = timezone.now()  # the cluster keeps running its schedules until it is stopped below
    finally:
        cluster.kill()
        if approver and approver.poll() is None:
            approver.kill()
        if broker == "orm":
            OrmQ.objects.all().delete()
    log = (tmp_path / "qcluster.log").read_text()[-4000:]

    # then: nothing lost — every lead sold or unsold, within the recovery bound
    assert not Lead.objects.filter(status=LeadStatus.APPROVED).exists(), log
    assert recovered_in < DRAIN_DEADLINE_SECONDS
    # nothing doubled: one sale per lead and buyer, one charge per sale, at most one selling run per lead
    assignments = Assignment.objects.count()
    assert assignments > 0
    assert not Assignment.objects.values("lead_id", "provider_id").annotate(n=Sum(1)).filter(n__gt=1).exists()
    per_lead = Counter(Assignment.objects.values_list("lead_id", flat=True))
    assert max(per_lead.values()) <= level.max_recipients
    charges = LedgerEntry.objects.filter(kind="charge")
    assert charges.count() == assignments
    assert -charges.aggregate(s=Sum("amount_cents"))["s"] == Assignment.objects.aggregate(s=Sum("price_cents"))["s"]
    selling_runs = Counter(DistributionRun.objects.filter(outcome=LeadStatus.DISTRIBUTED)
                           .values_list("lead_id", flat=True))
    assert max(selling_runs.values()) == 1
    # the books balance: every cached balance is its ledger sum, never negative
    for account in Account.objects.all():
        total = LedgerEntry.objects.filter(account=account).aggregate(s=Sum("amount_cents"))["s"] or 0
        assert account.balance_cents == total >= 0, account.pk
    # e-mail: no message twice; every event sent, except a send the kill interrupted (left "sending", never resent)
    sent = _mail_sent(tmp_path / "mail")
    assert sent and max(sent.values()) == 1, [k for k, n in sent.items() if n > 1]
    # (an e-mail a schedule queued after the drain, e.g. a funds or balance notice, may still be in flight when
    # the cluster is stopped: only what existed when the recovery was declared complete is judged)
    statuses = Counter(EmailEvent.objects.filter(created_at__lte=drained_at).values_list("status", flat=True))
    late = list(EmailEvent.objects.filter(created_at__gt=drained_at).values_list("template", "status"))
    assert set(statuses) <= {EmailStatus.SENT, EmailStatus.SENDING}, (statuses, late)
    assert statuses[EmailStatus.SENDING] <= 2  # at most one per worker process killed mid-send
    # a send the kill interrupted may or may not have gone out before the status was written: each "sending"
    # event is at most one message, and every "sent" event is exactly one
    sent_events, sending_events = statuses[EmailStatus.SENT], statuses[EmailStatus.SENDING]
    assert sent_events <= sum(sent.values()) <= sent_events + sending_events
    assert EmailEvent.objects.filter(template="lead_approved").count() == LEADS
