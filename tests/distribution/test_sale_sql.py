"""The sale in one round trip (`hl_sale_sell_<hash>`) against the Python engine: same state, same leads, same results.

Each test builds a marketplace, then plays the same steps (leads sold in order, at fixed times; the odd change of
state in between) twice: first with the Python engine (HOTLEAD["DISTRIBUTION_IN_DATABASE"] = False) inside a
savepoint that is rolled back, then with the PostgreSQL function. Both leave a snapshot, in natural keys only (the
ids of rows written during a run differ, sequences advance in both): assignments, ledger, balances, subscriptions,
cursors, leads, lead history, stored runs and their traces, the e-mails queued, and each run's result. The two
must be equal; each scenario then asserts what the engine should have done, so agreement is never vacuous.
"""
from __future__ import annotations

import itertools
import json
import pprint
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max
from django.test import override_settings
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from hotlead.billing.models import Account, LedgerEntry
from hotlead.core.exceptions import ApplicationError
from hotlead.core.models import AuditLog
from hotlead.distribution.models import Assignment, DistributionRun, LevelCursor
from hotlead.distribution.services.eligibility import level_eligibility
from hotlead.distribution.services.eligibility_sql import level_read_fast_sql
from hotlead.distribution.services.engine import lead_distribute, sale_in_database
from hotlead.distribution.services.facts import lead_facts_of, market_read
from hotlead.leads.enums import LeadStatus
from hotlead.leads.models import Lead, LeadEvent
from hotlead.levels.enums import SubscriptionStatus
from hotlead.levels.models import CompetitionLevel, Subscription
from hotlead.levels.services.levels import level_archive, level_update
from hotlead.notifications.models import EmailEvent
from hotlead.providers.enums import ProviderStatus
from hotlead.providers.models import Provider
from tests.distribution.conftest import approved_lead, make_level, seller
from tests.factories.distribution import make_assignment
from tests.factories.providers import ProviderFactory

pytestmark = pytest.mark.django_db

# Los Angeles is UTC-8 in November: the factories' providers live there.
SUNDAY_NIGHT_LA = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)  # Sunday 22:00 in LA, Monday 15:00 in Tokyo
MONDAY_MORNING_LA = datetime(2026, 11, 30, 17, 0, tzinfo=UTC)  # Monday 09:00 in LA
MONDAY_NOON_LA = datetime(2026, 11, 30, 20, 0, tzinfo=UTC)  # Monday 12:00 in LA, Tuesday 05:00 in Tokyo
MONDAY_EVENING_LA = datetime(2026, 12, 1, 4, 0, tzinfo=UTC)  # Monday 20:00 in LA: still November there
TUESDAY_MORNING_LA = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)  # Tuesday 09:00 in LA: December


# --- playing the same steps with both engines -----------------------------------------------------------------


@dataclass(frozen=True)
class Sell:
    """Distribute one lead (which exists before the runs) at a fixed time; staff runs are strict, with an actor."""

    lead: Lead
    now: datetime = MONDAY_NOON_LA
    trigger: str = "approval"
    strict: bool = False
    actor: object = None


Step = Sell | Callable[[], object]  # a callable changes the state between sales (or probes it: its result is kept)


def _python_engine():
    # run_both plays several leads in one rolled-back transaction, which production never does: the lock order
    # (hotlead.core.locks) is checked per lead's transaction by the other engine tests, not across these.
    return override_settings(HOTLEAD={**settings.HOTLEAD, "DISTRIBUTION_IN_DATABASE": False}, LOCK_ORDER_CHECK=False)


def _plain(value):
    """JSON values as the database would hand them back (enums become strings)."""
    return json.loads(json.dumps(value))


# E-mail dedupe keys end with a time of the run (not of the lead): keep the stable head.
_DEDUPE_PARTS = {"low_balance": 2, "subscription_deactivated": 3, "subscription_reactivated": 3}


def _dedupe(template: str, key: str | None) -> str | None:
    if key is None or template not in _DEDUPE_PARTS:
        return key
    return ":".join(key.split(":")[: _DEDUPE_PARTS[template]])


def _snapshot(*, emails_after: int) -> dict:
    """The marketplace in natural keys: never an id of a row a run writes."""
    slugs = dict(CompetitionLevel.objects.values_list("id", "slug"))
    return {
        "assignments": sorted(
            (a["lead_id"], a["provider_id"], slugs[a["level_id"]], a["subscription_id"], a["category_id"],
             a["price_cents"], a["status"], a["assigned_at"], a["in_area_at_sale"], a["charge_entry__idempotency_key"])
            for a in Assignment.objects.values(
                "lead_id", "provider_id", "level_id", "subscription_id", "category_id", "price_cents", "status",
                "assigned_at", "in_area_at_sale", "charge_entry__idempotency_key")
        ),
        "ledger": sorted(
            LedgerEntry.objects.values_list("idempotency_key", "account_id", "kind", "amount_cents",
                                            "balance_after_cents", "memo", "reference", "related_type",
                                            "related_id", "actor_id")
        ),
        "accounts": sorted(
            (provider_id, balance, alerted_at is not None)
            for provider_id, balance, alerted_at in Account.objects.values_list(
                "provider_id", "balance_cents", "low_balance_alerted_at")
        ),
        "subscriptions": sorted(
            Subscription.objects.values_list("id", "provider_id", "level__slug", "status", "last_served_at")
        ),
        "cursors": sorted(
            (slugs[level_id], last)
            for level_id, last in LevelCursor.objects.values_list("level_id", "last_provider_id")
        ),
        "leads": sorted(
            Lead.objects.values_list("id", "status", "buyers_count", "status_changed_at", "distributed_at",
                                     "updated_at", "is_fraud")
        ),
        "lead_events": [
            (e["lead_id"], e["from_status"], e["to_status"], e["action"], e["data"], e["actor_id"], e["note"])
            for e in LeadEvent.objects.order_by("lead_id", "created_at", "id").values(
                "lead_id", "from_status", "to_status", "action", "data", "actor_id", "note")
        ],
        "stored_runs": [
            (r["lead_id"], r["trigger"], r["actor_id"], r["outcome"], r["buyers"], r["trace"])
            for r in DistributionRun.objects.order_by("id").values(
                "lead_id", "trigger", "actor_id", "outcome", "buyers", "trace")
        ],
        "emails": sorted(
            (
                e["template"], e["to"], e["related_type"], e["related_id"], _dedupe(e["template"], e["dedupe_key"]),
                json.dumps(e["context"], sort_keys=True), e["status"],
            )
            for e in EmailEvent.objects.filter(pk__gt=emails_after).values(
                "template", "to", "related_type", "related_id", "dedupe_key", "context", "status")
        ),
    }


def _sell(step: Sell) -> dict | None:
    try:
        run = lead_distribute(lead_id=step.lead.pk, trigger=step.trigger, now=step.now, strict=step.strict,
                              actor=step.actor)
    except ApplicationError as exc:  # a refusal must be the same error, message and details
        return {"lead": step.lead.pk, "error": type(exc).__name__, "message": str(exc),
                "details": _plain(getattr(exc, "details", None))}
    if run is None:
        return None
    stored = DistributionRun.objects.get(pk=run.pk)
    assert (stored.outcome, stored.buyers, stored.trace) == (run.outcome, run.buyers, _plain(run.trace))
    return {"lead": step.lead.pk, "outcome": str(run.outcome), "buyers": run.buyers, "trace": _plain(run.trace),
            "actor_id": run.actor_id, "trigger": run.trigger}


def _play(steps: list[Step]) -> dict:
    emails_after = EmailEvent.objects.aggregate(top=Max("pk"))["top"] or 0
    audit_after = AuditLog.objects.aggregate(top=Max("pk"))["top"] or 0
    runs, probes = [], []
    for step in steps:
        if isinstance(step, Sell):
            runs.append(_sell(step))
        else:
            probes.append(step())
    audit = [
        # the run's id is the only id a run writes into its audit entry
        (a["action"], a["actor_id"], a["actor_label"], a["object_type"], a["object_id"],
         {k: v for k, v in a["changes"].items() if k != "run"})
        for a in AuditLog.objects.filter(pk__gt=audit_after).order_by("pk").values(
            "action", "actor_id", "actor_label", "object_type", "object_id", "changes")
    ]
    return {"runs": runs, "probes": probes, "audit": audit, **_snapshot(emails_after=emails_after)}


def _differences(python, sql, path: str = "") -> list[str]:
    """Where two JSON-like values differ, as `path: python=… sql=…` lines."""
    if isinstance(python, dict) and isinstance(sql, dict):
        return [line for key in sorted(set(python) | set(sql), key=str)
                for line in _differences(python.get(key, "<missing>"), sql.get(key, "<missing>"), f"{path}.{key}")]
    if isinstance(python, list | tuple) and isinstance(sql, list | tuple) and len(python) == len(sql):
        return [line for i, (a, b) in enumerate(zip(python, sql, strict=True))
                for line in _differences(a, b, f"{path}[{i}]")]
    if python != sql:
        return [f"{path}: python={python!r}\n{' ' * len(path)}  sql   ={sql!r}"]
    return []


def _assert_same(python: dict, sql: dict) -> None:
    problems = []
    for i, (p_run, s_run) in enumerate(itertools.zip_longest(python["runs"], sql["runs"])):
        if p_run != s_run:
            problems.append(f"run {i} (lead {(p_run or s_run or {}).get('lead')}) differs:\n"
                            + "\n".join(_differences(p_run, s_run, "run")[:30]))
    for key in python:
        if key != "runs" and python[key] != sql[key]:
            only_python = [x for x in python[key] if x not in sql[key]]
            only_sql = [x for x in sql[key] if x not in python[key]]
            problems.append(f"{key} differ:\n  python only: {pprint.pformat(only_python, width=110)}"
                            f"\n  sql only:    {pprint.pformat(only_sql, width=110)}")
    assert not problems, "the Python engine and the sale function disagree:\n" + "\n".join(problems)


def run_both(steps: list[Step]) -> dict:
    """Play `steps` with the Python engine (rolled back), then with the SQL function (kept); assert both ended
    the same, and return the snapshot (the database is left as the SQL run left it)."""
    with _python_engine():
        assert not sale_in_database()
        with transaction.atomic():
            python = _play(steps)
            transaction.set_rollback(True)
    assert sale_in_database()
    sql = _play(steps)
    _assert_same(python, sql)
    return sql


def levels_of(outcome: dict, run: int = 0) -> list[dict]:
    return outcome["runs"][run]["trace"]["levels"]


def chosen(outcome: dict) -> list[list[int]]:
    return [r["trace"]["levels"][-1]["chosen"] if r["trace"]["levels"] else [] for r in outcome["runs"]]


def emails(template: str) -> list[EmailEvent]:
    return list(EmailEvent.objects.filter(template=template).order_by("id"))


# --- the level read of the SQL function against the Python engine's -----------------------------------------

READ_LIMIT = 50  # far more than max_recipients: the whole serving order is compared, not only its head


def _read_python(facts, level, now) -> dict:
    found = level_eligibility(lead=facts, level=level, now=now, limit=READ_LIMIT)
    return {
        "considered": found.considered, "eligible": found.eligible, "skipped": dict(found.skipped),
        "cursor": found.cursor, "eligible_providers": found.eligible_providers,
        "skipped_providers": found.skipped_providers,
        "candidates": [(c.subscription_id, c.provider_id, c.last_served_at, c.capped, c.balance_cents)
                       for c in found.candidates],
    }


def _read_fast(facts, level, now) -> dict:
    """`eligibility.level_read_fast_sql()` with the values the sale function binds to it."""
    params = {
        "lead_id": facts.id, "category_id": facts.category_id, "postal_code": facts.postal_code,
        "prefixes": [facts.postal_code[:n] for n in range(1, len(facts.postal_code) + 1)],
        "price": level.price_cents, "level_id": level.id, "now": now, "doc": json.dumps(facts.filter_doc()),
        "limit": READ_LIMIT,
    }
    with connection.cursor() as cursor:
        cursor.execute(level_read_fast_sql(), params)
        rows = cursor.fetchall()
    read = {"considered": 0, "eligible": 0, "skipped": {}, "cursor": 0, "eligible_providers": [],
            "skipped_providers": {}, "candidates": []}
    for kind, reason, n, ids, subscription_id, provider_id, last_served_at, capped, pos, balance in rows:
        if kind == 0:
            ids = json.loads(ids) if isinstance(ids, str) else ids  # Django's cursor hands jsonb back as text
            read["considered"] += n
            read["cursor"] = int(pos or 0)
            if reason is None:
                read["eligible"], read["eligible_providers"] = n, sorted(ids)
            else:
                read["skipped"][reason] = n
                if ids:
                    read["skipped_providers"][reason] = sorted(ids)
        else:
            read["candidates"].append((subscription_id, provider_id, last_served_at, capped, balance))
    return read


def reads_agree(lead: Lead, now: datetime) -> Callable[[], list]:
    """A probe step: every walked level read both ways for `lead` at `now`, in the state of that moment."""
    def probe() -> list:
        facts = lead_facts_of(Lead.objects.select_related("category").get(pk=lead.pk))
        seen = []
        for level in market_read().levels:
            python, fast = _read_python(facts, level, now), _read_fast(facts, level, now)
            assert python == fast, f"level {level.slug}, lead {lead.pk}:\n" + "\n".join(_differences(python, fast))
            seen.append((level.slug, fast["considered"], fast["eligible"], len(fast["candidates"])))
        return seen
    return probe


# --- SPEC §4.1: each skip reason ----------------------------------------------------------------------------


@pytest.mark.parametrize("make_inactive", [
    pytest.param(lambda s: Subscription.objects.filter(pk=s.pk).update(status=SubscriptionStatus.INACTIVE_FUNDS),
                 id="subscription-inactive-funds"),
    pytest.param(lambda s: Provider.objects.filter(pk=s.provider_id).update(status=ProviderStatus.SUSPENDED),
                 id="provider-suspended"),
    pytest.param(lambda s: Provider.objects.filter(pk=s.provider_id).update(
        status=ProviderStatus.PENDING_VERIFICATION), id="provider-pending"),
    pytest.param(lambda s: Provider.objects.filter(pk=s.provider_id).update(email_verified_at=None),
                 id="provider-email-unverified"),
])
def test_inactive(roofing, semi, make_inactive):
    # given an idle seller (its balance does not cover the level: a deposit would have reactivated it) and a buyer
    idle = seller(semi, balance=5_000)
    make_inactive(idle)
    buyer = seller(semi)
    # when / then
    out = run_both([Sell(approved_lead())])
    [level] = levels_of(out)
    assert level["skipped"] == {"inactive": 1}
    assert level["skipped_providers"] == {"inactive": [idle.provider_id]}
    assert level["chosen"] == [buyer.provider_id]


def test_category(roofing, plumbing, semi):
    other = seller(semi, categories=[plumbing])
    buyer = seller(semi)
    out = run_both([Sell(approved_lead())])
    [level] = levels_of(out)
    assert level["considered"] == 2 and level["skipped"] == {"category": 1}
    assert level["skipped_providers"] == {}  # the bulk reasons keep no ids
    assert level["chosen"] == [buyer.provider_id] and other.provider_id not in level["eligible_providers"]


def test_area_exact_codes_and_prefixes(roofing):
    level = make_level("wide", rank=1, price_cents=1_000, max_recipients=10)
    inside = [seller(level, areas=areas) for areas in (["94110"], ["941*"], ["9*"], ["94110*"], ["10001", "9411*"])]
    outside = [seller(level, areas=areas) for areas in (["94111"], ["95*"], ["9411"], ["941101*"])]
    out = run_both([Sell(approved_lead(postal_code="94110"))])
    [trace] = levels_of(out)
    assert trace["skipped"] == {"area": len(outside)}
    assert trace["chosen"] == sorted(s.provider_id for s in inside)


GOOD_LEAD = {"postal_code": "94110", "budget_cents": 80_000, "timeline": "asap", "source": "google"}
MATCHING_FILTERS = [
    [{"field": "budget_cents", "op": "gte", "value": 50_000}],
    [{"field": "budget_cents", "op": "lte", "value": 80_000}],
    [{"field": "budget_cents", "op": "between", "value": [50_000, 90_000]}],
    [{"field": "timeline", "op": "in", "value": ["asap", "flexible"]}],
    [{"field": "source", "op": "ne", "value": "facebook"}],
    [{"field": "source", "op": "not_in", "value": ["bing", "facebook"]}],
    [{"field": "postal_code", "op": "prefix", "value": "941"}, {"field": "category", "op": "eq", "value": "roofing"}],
    # issue 14: a list of prefixes matches when any of them does
    [{"field": "postal_code", "op": "prefix", "value": ["100", "941"]}],
]
FAILING_FILTERS = [
    [{"field": "budget_cents", "op": "gte", "value": 90_000}],
    [{"field": "budget_cents", "op": "between", "value": [1, 100]}],
    [{"field": "timeline", "op": "eq", "value": "flexible"}],
    [{"field": "source", "op": "prefix", "value": "face"}],
    [{"field": "postal_code", "op": "in", "value": ["10001"]}],
    [{"field": "budget_cents", "op": "gte", "value": 50_000}, {"field": "source", "op": "eq", "value": "bing"}],
    [{"field": "postal_code", "op": "prefix", "value": ["100", "95", "9410"]}],
]


def test_filters(roofing):
    # given a level where everyone may buy, and sellers whose filters match the first lead or not
    level = make_level("wide", rank=1, price_cents=1_000, max_recipients=20)
    matching = [seller(level, filters=f) for f in MATCHING_FILTERS]
    failing = [seller(level, filters=f) for f in FAILING_FILTERS]
    # a lead with no budget, no timeline and another source: only ne / not_in / prefix / eq on what it has match
    bare = approved_lead(postal_code="94110", budget_cents=None, timeline="", source="web")
    # when
    out = run_both([Sell(approved_lead(**GOOD_LEAD)), Sell(bare, now=MONDAY_EVENING_LA)])
    # then
    [first], [second] = levels_of(out, 0), levels_of(out, 1)
    assert sorted(first["chosen"]) == sorted(s.provider_id for s in matching)
    assert first["skipped"] == {"filter": len(failing)}
    assert first["skipped_providers"] == {"filter": sorted(s.provider_id for s in failing)}
    missing_ok = [matching[i] for i in (4, 5, 6, 7)]
    assert sorted(second["chosen"]) == sorted(s.provider_id for s in missing_ok)
    assert second["skipped"] == {"filter": len(matching) + len(failing) - len(missing_ok)}


def test_already_assigned_then_a_new_seller_buys_the_unsold_lead(roofing, exclusive):
    # given an unsold lead an earlier run sold to `first`, and a second seller whose subscription is paused
    first = seller(exclusive)
    lead = approved_lead(status=LeadStatus.UNSOLD)
    make_assignment(lead=lead, provider=first.provider, subscription=first,
                    assigned_at=MONDAY_NOON_LA - timedelta(hours=2))
    newcomer = seller(exclusive, status=SubscriptionStatus.PAUSED)
    # when it is re-distributed, the newcomer resumes, and it is re-distributed again
    out = run_both([
        Sell(lead, now=MONDAY_NOON_LA, trigger="manual"),
        lambda: Subscription.objects.filter(pk=newcomer.pk).update(status=SubscriptionStatus.ACTIVE),
        Sell(lead, now=MONDAY_EVENING_LA, trigger="manual"),
    ])
    # then: unsold again (no new history row), then sold to the newcomer only
    [before], [after] = levels_of(out, 0), levels_of(out, 1)
    assert before["skipped"] == {"already_assigned": 1, "schedule": 1} and before["chosen"] == []
    assert after["skipped"] == {"already_assigned": 1} and after["chosen"] == [newcomer.provider_id]
    assert [r["outcome"] for r in out["runs"]] == ["unsold", "distributed"]
    assert [(e[1], e[2]) for e in out["lead_events"] if e[0] == lead.pk] == [("unsold", "distributed")]
    assert Assignment.objects.filter(lead=lead).count() == 2


def test_schedule_outside_hours_and_paused(roofing, semi):
    # given sellers with delivery hours in their own time zones, a paused one and one always open
    weekdays = seller(semi, schedule={"days": [0, 1, 2, 3, 4], "start": "08:00", "end": "18:00"})
    sunday_night = seller(semi, schedule={"days": [6], "start": "20:00", "end": "02:00"})
    paused = seller(semi, status=SubscriptionStatus.PAUSED)
    always = seller(semi)
    tokyo = seller(semi, schedule={"days": [0, 1, 2, 3, 4], "start": "08:00", "end": "18:00"})
    Provider.objects.filter(pk=tokyo.provider_id).update(timezone="Asia/Tokyo")
    # when a lead comes on Sunday night and another on Monday noon (Los Angeles)
    out = run_both([Sell(approved_lead(), now=SUNDAY_NIGHT_LA), Sell(approved_lead(), now=MONDAY_NOON_LA)])
    # then
    [sunday], [monday] = levels_of(out, 0), levels_of(out, 1)
    assert sorted(sunday["chosen"]) == sorted([sunday_night.provider_id, always.provider_id, tokyo.provider_id])
    assert sunday["skipped_providers"] == {"schedule": sorted([weekdays.provider_id, paused.provider_id])}
    assert sorted(monday["chosen"]) == sorted([weekdays.provider_id, always.provider_id])
    assert monday["skipped_providers"] == {
        "schedule": sorted([sunday_night.provider_id, paused.provider_id, tokyo.provider_id])}


@pytest.mark.parametrize(("cap", "sales"), [
    pytest.param({"daily_cap": 1},
                 [(MONDAY_MORNING_LA, True), (MONDAY_NOON_LA, False), (TUESDAY_MORNING_LA, True)], id="daily"),
    pytest.param({"weekly_cap": 2},
                 [(SUNDAY_NIGHT_LA, True), (MONDAY_MORNING_LA, True), (MONDAY_NOON_LA, True),
                  (TUESDAY_MORNING_LA, False)], id="weekly"),
    pytest.param({"monthly_cap": 1},
                 [(MONDAY_NOON_LA, True), (MONDAY_EVENING_LA, False), (TUESDAY_MORNING_LA, True)], id="monthly"),
    pytest.param({"monthly_budget_cents": 8_000},
                 [(MONDAY_NOON_LA, True), (MONDAY_EVENING_LA, False), (TUESDAY_MORNING_LA, True)],
                 id="monthly-budget"),
])
def test_caps(roofing, semi, cap, sales):
    # given a capped seller and one without caps, at a level that sells to both
    capped = seller(semi, **cap)
    other = seller(semi)
    # when leads come at the given times
    out = run_both([Sell(approved_lead(), now=at) for at, _ in sales])
    # then the capped seller buys exactly when its cap allows, and the other one always
    for (_, buys), level in zip(sales, [levels_of(out, i)[0] for i in range(len(sales))], strict=True):
        assert (capped.provider_id in level["chosen"]) is buys
        assert other.provider_id in level["chosen"]
        assert level["skipped"] == ({} if buys else {"cap": 1})


def test_balance(roofing, semi):
    # given one seller a cent short of the price and one with exactly the price
    short = seller(semi, balance=5_999)
    exact = seller(semi, balance=6_000)
    out = run_both([Sell(approved_lead())])
    [level] = levels_of(out)
    assert level["skipped_providers"] == {"balance": [short.provider_id]} and level["chosen"] == [exact.provider_id]
    assert dict((pid, bal) for pid, bal, _ in out["accounts"])[exact.provider_id] == 0
    # the buyer's subscription is no longer funded: inactive_funds, and one e-mail about it
    assert Subscription.objects.get(pk=exact.pk).status == SubscriptionStatus.INACTIVE_FUNDS
    assert [e.related_id for e in emails("subscription_deactivated")] == [str(exact.provider_id)]


# --- SPEC §4.2: the walk, max_recipients, rotation ----------------------------------------------------------


def test_the_walk_falls_through_to_the_first_level_with_a_buyer(roofing, plumbing, exclusive, semi, shared):
    seller(exclusive, categories=[plumbing])
    poor = seller(semi, balance=3_000)
    seller(shared, provider=poor.provider)
    out = run_both([Sell(approved_lead())])
    walk = levels_of(out)
    assert [lv["level"] for lv in walk] == ["exclusive", "semi-exclusive", "shared"]
    assert walk[0]["why"] == "No eligible subscription (1 category)."
    assert walk[1]["why"] == "No eligible subscription (1 balance)."
    assert walk[2]["chosen"] == [poor.provider_id]
    assert out["runs"][0]["trace"]["level"] == "shared"
    assert out["cursors"] == [("shared", poor.provider_id)]


def test_max_recipients_and_the_next_lead(roofing, semi):
    ids = sorted(seller(semi).provider_id for _ in range(5))
    out = run_both([Sell(approved_lead(), now=MONDAY_NOON_LA), Sell(approved_lead(), now=MONDAY_EVENING_LA)])
    assert chosen(out) == [ids[:3], [ids[3], ids[4], ids[0]]]
    assert levels_of(out, 1)[0]["served"][2]["last_served_at"] == MONDAY_NOON_LA.isoformat()
    assert out["cursors"] == [("semi-exclusive", ids[0])]


def test_rotation_over_ties(roofing, exclusive):
    a, b, c = sorted(seller(exclusive).provider_id for _ in range(3))
    out = run_both([Sell(approved_lead(), now=MONDAY_NOON_LA) for _ in range(6)])
    assert chosen(out) == [[a], [b], [c], [a], [b], [c]]
    assert [levels_of(out, i)[0]["cursor_before"] for i in range(6)] == [0, a, b, c, a, b]


def test_inactive_and_archived_levels_are_not_walked_but_an_inactive_one_still_needs_funds(roofing, exclusive, semi,
                                                                                          shared):
    # given an archived exclusive level, an inactive semi-exclusive one, and a buyer at all three
    buyer = seller(shared, balance=8_000)
    at_exclusive = seller(exclusive, provider=buyer.provider)
    at_semi = seller(semi, provider=buyer.provider)
    level_archive(level_id=exclusive.pk)
    level_update(level_id=semi.pk, name=semi.name, slug=semi.slug, rank=semi.rank, price_cents=semi.price_cents,
                 max_recipients=semi.max_recipients, active=False)
    # when a lead comes
    out = run_both([Sell(approved_lead())])
    # then only shared is walked; 5,500 left no longer covers the (inactive, live) semi-exclusive level
    assert [lv["level"] for lv in levels_of(out)] == ["shared"]
    statuses = dict(Subscription.objects.filter(provider_id=buyer.provider_id).values_list("pk", "status"))
    assert statuses == {buyer.pk: SubscriptionStatus.ACTIVE, at_exclusive.pk: SubscriptionStatus.CANCELLED,
                        at_semi.pk: SubscriptionStatus.INACTIVE_FUNDS}


def test_a_cursor_and_last_served_times_set_before_the_runs(roofing, semi):
    subs = sorted((seller(semi) for _ in range(4)), key=lambda s: s.provider_id)
    served = [None, MONDAY_MORNING_LA, MONDAY_MORNING_LA, SUNDAY_NIGHT_LA]
    for sub, at in zip(subs, served, strict=True):
        Subscription.objects.filter(pk=sub.pk).update(last_served_at=at)
    LevelCursor.objects.create(level=semi, last_provider_id=subs[1].provider_id)
    out = run_both([Sell(approved_lead())])
    # never served first; then the least recently served; the tie at 09:00 broken after the cursor
    assert chosen(out) == [[subs[0].provider_id, subs[3].provider_id, subs[2].provider_id]]


# --- SPEC §4.3: money after the charge ------------------------------------------------------------------------


def test_a_buyers_balance_drops_below_the_dearest_level(roofing, exclusive, semi, shared):
    # given a provider at every level with enough for one exclusive lead and one semi-exclusive one
    top = seller(exclusive, balance=20_000)
    mid = seller(semi, provider=top.provider)
    low = seller(shared, provider=top.provider)
    status = lambda: list(Subscription.objects.filter(pk__in=[top.pk, mid.pk, low.pk]).order_by(  # noqa: E731
        "level__rank").values_list("status", flat=True))
    # when three leads come
    out = run_both([Sell(approved_lead()), status, Sell(approved_lead()), status, Sell(approved_lead())])
    # then exclusive (8,000 left: exclusive unfunded), semi-exclusive (2,000 left: all unfunded), unsold
    assert [r["trace"]["level"] for r in out["runs"]] == ["exclusive", "semi-exclusive", None]
    assert out["probes"] == [["inactive_funds", "active", "active"], ["inactive_funds"] * 3]
    deactivated = emails("subscription_deactivated")
    assert [[lv["name"] for lv in e.context["levels"]] for e in deactivated] == [
        ["Exclusive"], ["Semi Exclusive", "Shared"]]
    assert len(emails("low_balance")) == 1  # 2,000 is under the 5,000 threshold
    assert levels_of(out, 2)[1]["skipped_providers"] == {"inactive": [top.provider_id]}


def test_the_low_balance_alert_is_armed_once(roofing, shared):
    buyer = seller(shared, balance=10_000)
    alerted = lambda: Account.objects.get(pk=buyer.provider_id).low_balance_alerted_at is not None  # noqa: E731
    steps = []
    for _ in range(4):  # 7,500, 5,000 (not under 5,000), 2,500 (alert), 0 (no second alert)
        steps += [Sell(approved_lead()), alerted]
    out = run_both(steps)
    assert out["probes"] == [False, False, True, True]
    [alert] = emails("low_balance")
    assert alert.context["balance_cents"] == 2_500 and alert.dedupe_key.startswith(f"low_balance:{buyer.provider_id}:")
    assert len(emails("subscription_deactivated")) == 1  # at 0 the shared subscription is unfunded


def test_an_unsold_lead(roofing, plumbing, exclusive, semi):
    seller(exclusive)
    seller(semi)
    lead = approved_lead(category=plumbing)
    out = run_both([Sell(lead)])
    assert out["runs"][0]["outcome"] == "unsold" and out["runs"][0]["buyers"] == 0
    assert [lv["skipped"] for lv in levels_of(out)] == [{"category": 1}, {"category": 1}]
    assert out["lead_events"] == [(lead.pk, "approved", "unsold", "unsold",
                                   {"trigger": "approval", "level": None, "buyers": 0}, None, "")]
    assert out["assignments"] == [] and all(not key.startswith("charge:") for key, *_ in out["ledger"])


def test_an_empty_market(roofing):
    lead = approved_lead()
    out = run_both([Sell(lead)])
    run = out["runs"][0]
    assert run["outcome"] == "unsold"
    assert run["trace"] == {"lead": {"category": "roofing", "postal_code": "94110"}, "at": MONDAY_NOON_LA.isoformat(),
                            "outcome": "unsold", "level": None, "levels": []}


def test_a_job_on_a_lead_no_longer_waiting_does_nothing(roofing, exclusive):
    seller(exclusive)
    lead = approved_lead()
    out = run_both([Sell(lead), Sell(lead)])
    assert out["runs"][1] is None and len(out["stored_runs"]) == 1


def test_a_stale_inactive_funds_subscription_the_new_balance_covers_comes_back(roofing, exclusive, semi, shared):
    # given a provider at shared and semi-exclusive whose semi-exclusive subscription went inactive_funds when the
    # level cost $110; the level is then lowered to $60, and its funds re-check (a job after commit) has not run
    buyer = seller(shared, balance=10_000)
    stale = seller(semi, provider=buyer.provider)
    CompetitionLevel.objects.filter(pk=semi.pk).update(price_cents=11_000)
    Subscription.objects.filter(pk=stale.pk).update(status=SubscriptionStatus.INACTIVE_FUNDS)
    level_update(level_id=semi.pk, name=semi.name, slug=semi.slug, rank=semi.rank, price_cents=6_000,
                 max_recipients=semi.max_recipients, active=True)
    # when two leads come
    out = run_both([Sell(approved_lead()), Sell(approved_lead())])
    # then the first sells at shared (7,500 left: below the dearest level, so the funds are synced and the
    # semi-exclusive subscription is active again), the second at semi-exclusive (1,500 left: both unfunded)
    assert [r["trace"]["level"] for r in out["runs"]] == ["shared", "semi-exclusive"]
    assert levels_of(out, 0)[1]["skipped_providers"] == {"inactive": [buyer.provider_id]}
    assert [e.template for e in EmailEvent.objects.order_by("id")] == [
        "subscription_reactivated", "low_balance", "subscription_deactivated"]
    assert set(Subscription.objects.filter(provider_id=buyer.provider_id).values_list("status", flat=True)) == {
        SubscriptionStatus.INACTIVE_FUNDS}


# Intake stores postal codes matching ^[A-Z0-9-]{3,10}$ (leads.validation) and the console shows them read-only,
# so these values only reach the engine from rows written around the services (an import, a hand edit in SQL).
@pytest.mark.parametrize("postal_code", [pytest.param("94110\xa0", id="no-break-space"),
                                         pytest.param("ß1", id="sharp-s")])
def test_a_non_ascii_postal_code_is_matched_as_written_by_both(roofing, exclusive, postal_code):
    """Intake only stores [A-Z0-9-]; a value written around it is compared with ASCII rules only (white space
    removed, a-z upper-cased) by both engines: no Unicode folding ('ß' is not 'SS', U+00A0 is not a space)."""
    seller(exclusive, areas=["94110", "SS1"])
    out = run_both([Sell(approved_lead(postal_code=postal_code))])
    [level] = levels_of(out)
    assert level["chosen"] == [] and level["skipped"] == {"area": 1}


def test_ascii_space_and_case_are_normalised_by_both(roofing, exclusive):
    buyer = seller(exclusive, areas=["SW1A"])
    out = run_both([Sell(approved_lead(postal_code=" sw1a\t"))])
    assert levels_of(out)[0]["chosen"] == [buyer.provider_id]


# --- the run policy: which leads a run may sell (checked under the lead's lock) ---------------------------------

FRESH = MONDAY_NOON_LA - timedelta(hours=23)
STALE = MONDAY_NOON_LA - timedelta(hours=25)


@pytest.mark.parametrize(("lead_fields", "step", "expected"), [
    pytest.param({"is_fraud": True}, {}, None, id="fraud-job"),
    pytest.param({"is_fraud": True}, {"trigger": "manual", "strict": True}, ("Conflict", {"is_fraud": True}),
                 id="fraud-staff"),
    pytest.param({"status": LeadStatus.UNSOLD}, {}, None, id="approval-job-on-unsold"),
    pytest.param({"status": LeadStatus.PENDING_REVIEW}, {"trigger": "manual"}, None, id="manual-job-on-pending"),
    pytest.param({"status": LeadStatus.DISTRIBUTED}, {"trigger": "manual", "strict": True},
                 ("Conflict", {"status": "distributed"}), id="staff-on-distributed"),
    pytest.param({"status": LeadStatus.REJECTED}, {"trigger": "manual", "strict": True},
                 ("Conflict", {"status": "rejected"}), id="staff-on-rejected"),
    pytest.param({"status": LeadStatus.UNSOLD, "approved_at": STALE}, {"trigger": "schedule"}, None,
                 id="schedule-stale"),
    pytest.param({"status": LeadStatus.APPROVED, "approved_at": FRESH}, {"trigger": "schedule"}, None,
                 id="schedule-on-approved"),
    pytest.param({"status": LeadStatus.UNSOLD, "approved_at": FRESH}, {"trigger": "schedule"}, "distributed",
                 id="schedule-fresh"),
    pytest.param({"status": LeadStatus.UNSOLD}, {"trigger": "manual"}, "distributed", id="manual-job-on-unsold"),
    pytest.param({"status": LeadStatus.UNSOLD}, {"trigger": "manual", "strict": True}, "distributed",
                 id="staff-on-unsold"),
])
def test_run_policy(roofing, exclusive, lead_fields, step, expected):
    buyer = seller(exclusive)
    lead = approved_lead(**lead_fields)
    out = run_both([Sell(lead, **step)])
    [run] = out["runs"]
    if expected is None:
        assert run is None
    elif isinstance(expected, tuple):
        assert (run["error"], run["details"]) == expected
    else:
        assert run["outcome"] == expected and levels_of(out)[0]["chosen"] == [buyer.provider_id]
    if not isinstance(expected, str):
        assert out["stored_runs"] == [] and out["assignments"] == [] and out["lead_events"] == []


def test_schedule_freshness_counts_from_creation_when_never_approved(roofing, exclusive):
    seller(exclusive)
    fresh, stale = approved_lead(status=LeadStatus.UNSOLD), approved_lead(status=LeadStatus.UNSOLD)
    Lead.objects.filter(pk=fresh.pk).update(approved_at=None, created_at=FRESH)
    Lead.objects.filter(pk=stale.pk).update(approved_at=None, created_at=STALE)
    out = run_both([Sell(stale, trigger="schedule"), Sell(fresh, trigger="schedule")])
    assert out["runs"][0] is None and out["runs"][1]["outcome"] == "distributed"


def test_a_missing_lead(roofing, exclusive):
    seller(exclusive)
    lead = approved_lead()
    Lead.objects.filter(pk=lead.pk).delete()
    out = run_both([Sell(lead)])
    assert out["runs"] == [{"lead": lead.pk, "error": "NotFound", "message": "No such lead.", "details": {}}]


def test_a_staff_run_records_its_actor(roofing, exclusive, staff_user):
    buyer = seller(exclusive)
    lead = approved_lead()
    out = run_both([Sell(lead, trigger="manual", strict=True, actor=staff_user)])
    assert (out["runs"][0]["actor_id"], out["runs"][0]["trigger"]) == (staff_user.pk, "manual")
    assert out["audit"] == [("lead.distribute", staff_user.pk, staff_user.email, "leads.lead", str(lead.pk),
                             {"status": ["approved", "distributed"], "buyers": 1, "public_id": str(lead.public_id)})]
    assert out["lead_events"] == [(lead.pk, "approved", "distributed", "distributed",
                                   {"trigger": "manual", "level": "exclusive", "buyers": 1}, staff_user.pk, "")]
    assert out["assignments"][0][1] == buyer.provider_id


def test_a_postal_code_stored_with_spaces_and_lower_case(roofing, exclusive):
    # intake normalises postal codes; the engine normalises again (an old or hand-edited row)
    buyer = seller(exclusive, areas=["A1B*"])
    lead = approved_lead(postal_code=" a1b 2c3")
    out = run_both([Sell(lead)])
    assert levels_of(out)[0]["chosen"] == [buyer.provider_id]
    assert out["runs"][0]["trace"]["lead"] == {"category": "roofing", "postal_code": "A1B2C3"}


# --- a hypothesis property: random small markets and lead sequences -------------------------------------------

PROPERTY_SETTINGS = hypothesis_settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
NOWS = [SUNDAY_NIGHT_LA, MONDAY_MORNING_LA, MONDAY_NOON_LA, MONDAY_EVENING_LA, TUESDAY_MORNING_LA]
FILTERS = MATCHING_FILTERS + FAILING_FILTERS + [
    [{"field": "postal_code", "op": "eq", "value": "94111"}],
    [{"field": "timeline", "op": "not_in", "value": ["asap"]}],
    [{"field": "category", "op": "ne", "value": "plumbing"}],
]
SCHEDULES = [
    {"days": [0, 1, 2, 3, 4], "start": "08:00", "end": "18:00"},
    {"days": [6], "start": "20:00", "end": "02:00"},
    {"days": [0], "start": "12:00", "end": "12:30"},
    {"days": [5, 6], "start": "00:00", "end": "23:59"},
]

# Each choice lists the sellable value first (hypothesis starts simple), so most examples sell something.
_level = st.fixed_dictionaries({
    "price": st.sampled_from([2_500, 6_000, 12_000, 1_000]),
    "max_recipients": st.integers(1, 3),
    "active": st.sampled_from([True, True, True, True, False]),
    "cursor": st.none() | st.integers(0, 11),
})
_subscription = st.fixed_dictionaries({
    "status": st.sampled_from(["active"] * 5 + ["paused", "inactive_funds", "cancelled"]),
    "filters": st.sampled_from([[]] * 24 + FILTERS),
    "schedule": st.sampled_from([None] * 8 + SCHEDULES),
    "daily_cap": st.sampled_from([None, None, 1, 2, 0]),
    "weekly_cap": st.sampled_from([None, None, None, 2]),
    "monthly_cap": st.sampled_from([None, None, None, 3]),
    "monthly_budget_cents": st.sampled_from([None, None, None, 13_000, 5_000]),
    "last_served": st.sampled_from([None, None, 1, 1, 5, 30]),  # hours before the first lead
})
_provider = st.fixed_dictionaries({
    "categories": st.sampled_from([["roofing"]] * 4 + [["roofing", "plumbing"]] * 3 + [["plumbing"], []]),
    "areas": st.sampled_from([["94110"], ["941*"], ["9411*", "10001"], ["94110", "95*"], ["9*"], ["94111"],
                              ["95*"], ["10001"], ["9411"]]),
    "balance": st.sampled_from([100_000, 30_000, 14_500, 12_000, 6_000, 5_999, 2_500, 999, 0]),
    "threshold": st.sampled_from([5_000, 20_000, 0]),
    "timezone": st.sampled_from(["America/Los_Angeles", "America/New_York", "Asia/Tokyo", "UTC", "Asia/Kolkata"]),
    "status": st.sampled_from(["active"] * 10 + ["suspended", "unverified", "pending"]),
    "subscriptions": st.lists(st.one_of(*[_subscription] * 3, st.none()), min_size=3, max_size=3),
    # an earlier sale at one of its levels: (level, hours before the first lead), or of the first lead itself
    "history": st.sampled_from([None, None, None, (0, 2), (1, 30), (2, 200), (0, "first lead"), (1, "first lead")]),
})
_lead = st.fixed_dictionaries({
    "category": st.sampled_from(["roofing", "roofing", "roofing", "plumbing"]),
    "postal_code": st.sampled_from(["94110", "94110", "941 10", "94111", "94112", "10001", "95123"]),
    "budget_cents": st.sampled_from([None, 80_000, 60_000, 1_000, 200_000]),
    "timeline": st.sampled_from(["", "asap", "within_month", "flexible"]),
    "source": st.sampled_from(["web", "google", "facebook", "bing"]),
    "now": st.integers(0, len(NOWS) - 1),
})


def _market_build(levels: list[dict], providers: list[dict], categories: dict,
                  first_lead: Lead) -> list[CompetitionLevel]:
    built = [make_level(f"prop-{rank}", rank=rank, price_cents=spec["price"], max_recipients=spec["max_recipients"],
                        active=spec["active"]) for rank, spec in enumerate(levels, start=1)]
    first_now = NOWS[0]
    provider_ids = []
    for spec in providers:
        provider = ProviderFactory(balance_cents=spec["balance"], areas=spec["areas"], timezone=spec["timezone"],
                                   categories=[categories[c] for c in spec["categories"]],
                                   low_balance_threshold_cents=spec["threshold"])
        if spec["status"] == "suspended":
            Provider.objects.filter(pk=provider.pk).update(status=ProviderStatus.SUSPENDED)
        elif spec["status"] == "pending":
            Provider.objects.filter(pk=provider.pk).update(status=ProviderStatus.PENDING_VERIFICATION)
        elif spec["status"] == "unverified":
            Provider.objects.filter(pk=provider.pk).update(email_verified_at=None)
        provider_ids.append(provider.pk)
        for level, sub in zip(built, spec["subscriptions"], strict=True):
            if sub is None:
                continue
            status = sub["status"]
            # the engine keeps "inactive_funds ⇔ the balance does not cover the price" (a deposit reactivates at
            # once): an inactive_funds subscription the balance covers is a state the system never leaves behind
            if status == SubscriptionStatus.INACTIVE_FUNDS and spec["balance"] >= level.price_cents:
                status = SubscriptionStatus.ACTIVE
            last = None if sub["last_served"] is None else first_now - timedelta(hours=sub["last_served"])
            subscription = Subscription.objects.create(
                provider=provider, level=level, status=status, filters=sub["filters"], schedule=sub["schedule"],
                daily_cap=sub["daily_cap"], weekly_cap=sub["weekly_cap"], monthly_cap=sub["monthly_cap"],
                monthly_budget_cents=sub["monthly_budget_cents"], last_served_at=last)
            if spec["history"] is not None and spec["history"][0] == built.index(level):
                index, hours = spec["history"]
                earlier = first_lead if hours == "first lead" else approved_lead(status=LeadStatus.DISTRIBUTED)
                make_assignment(lead=earlier, provider=provider, subscription=subscription,
                                assigned_at=first_now - timedelta(hours=1 if hours == "first lead" else hours))
    for level, spec in zip(built, levels, strict=True):
        if spec["cursor"] is not None:
            LevelCursor.objects.create(level=level, last_provider_id=provider_ids[spec["cursor"] % len(provider_ids)])
    return built


@PROPERTY_SETTINGS
@given(levels=st.lists(_level, min_size=3, max_size=3), providers=st.lists(_provider, min_size=3, max_size=12),
       leads=st.lists(_lead, min_size=1, max_size=6))
def test_both_engines_agree_on_random_markets(roofing, plumbing, levels, providers, leads):
    categories = {"roofing": roofing, "plumbing": plumbing}
    with transaction.atomic():
        steps = [
            Sell(approved_lead(category=categories[spec["category"]], postal_code=spec["postal_code"],
                               budget_cents=spec["budget_cents"], timeline=spec["timeline"], source=spec["source"]),
                 now=NOWS[spec["now"]])
            for spec in sorted(leads, key=lambda spec: spec["now"])
        ]
        _market_build(levels, providers, categories, first_lead=steps[0].lead)
        # before each sale, the function's level read and the Python engine's agree on the whole serving order
        out = run_both([part for step in steps for part in (reads_agree(step.lead, step.now), step)])
        assert len(out["runs"]) == len(steps) and all(run is not None for run in out["runs"])
        transaction.set_rollback(True)


def test_a_market_of_the_property_reaches_every_reason(roofing, plumbing):
    """The property's market builder can express every skip reason, a sale and an unsold lead."""
    levels = [{"price": 12_000, "max_recipients": 1, "active": True, "cursor": None},
              {"price": 6_000, "max_recipients": 2, "active": True, "cursor": 1},
              {"price": 2_500, "max_recipients": 3, "active": True, "cursor": None}]
    base_sub = {"status": "active", "filters": [], "schedule": None, "daily_cap": None, "weekly_cap": None,
                "monthly_cap": None, "monthly_budget_cents": None, "last_served": None}
    base = {"categories": ["roofing"], "areas": ["94110"], "balance": 100_000, "threshold": 5_000,
            "timezone": "America/Los_Angeles", "status": "active", "history": None}
    providers = [
        {**base, "subscriptions": [None, {**base_sub}, {**base_sub}]},
        {**base, "status": "suspended", "subscriptions": [{**base_sub}, None, None]},
        {**base, "categories": ["plumbing"], "subscriptions": [{**base_sub}, None, None]},
        {**base, "areas": ["95*"], "subscriptions": [{**base_sub}, None, None]},
        {**base, "subscriptions": [{**base_sub, "filters": FAILING_FILTERS[0]}, None, None]},
        {**base, "history": (0, 2), "subscriptions": [{**base_sub, "daily_cap": 1}, None, None]},
        {**base, "subscriptions": [{**base_sub, "status": "paused"}, None, None]},
        {**base, "balance": 11_000, "subscriptions": [{**base_sub}, {**base_sub}, None]},
        {**base, "history": (0, "first lead"), "subscriptions": [{**base_sub}, None, None]},
    ]
    lead = approved_lead(budget_cents=60_000)
    built = _market_build(levels, providers, {"roofing": roofing, "plumbing": plumbing}, first_lead=lead)
    other = approved_lead(postal_code="10001")
    out = run_both([reads_agree(lead, SUNDAY_NIGHT_LA), Sell(lead, now=SUNDAY_NIGHT_LA),
                    reads_agree(other, SUNDAY_NIGHT_LA), Sell(other, now=SUNDAY_NIGHT_LA)])
    assert out["probes"][0][0][1:] == (8, 0, 0)  # the first level: eight considered, none eligible
    first = levels_of(out, 0)
    assert first[0]["skipped"] == {"inactive": 1, "category": 1, "area": 1, "filter": 1, "already_assigned": 1,
                                   "cap": 1, "schedule": 1, "balance": 1}
    assert [lv["level"] for lv in first] == [built[0].slug, built[1].slug]
    assert len(first[1]["chosen"]) == 2
    assert [r["outcome"] for r in out["runs"]] == ["distributed", "unsold"]

