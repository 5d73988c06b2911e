"""Competition levels: create/update/archive/reorder through the services and the admin API; ranks stay unique."""
from __future__ import annotations

import threading

import pytest
from django.db import connection

from hotlead.core.models import AuditLog
from hotlead.levels.enums import SubscriptionStatus
from hotlead.levels.models import CompetitionLevel, Subscription
from hotlead.levels.services.levels import level_archive, level_create, level_move, level_reorder, level_update
from tests.factories.levels import LevelFactory, SubscriptionFactory
from tests.factories.providers import ProviderFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/admin/competition-levels"


def _ranks() -> list[tuple[str, int]]:
    return list(CompetitionLevel.objects.filter(archived_at__isnull=True).order_by("rank").values_list("slug", "rank"))


def _three() -> tuple[CompetitionLevel, CompetitionLevel, CompetitionLevel]:
    return (LevelFactory(slug="exclusive", rank=1, price_cents=12000),
            LevelFactory(slug="semi", rank=2, price_cents=6000, max_recipients=3),
            LevelFactory(slug="shared", rank=3, price_cents=2500, max_recipients=5))


def test_create_at_a_taken_rank_moves_the_others_down(staff_user):
    _three()
    level = level_create(name="Premium", slug="premium", rank=2, price_cents=9000, max_recipients=2, actor=staff_user)
    assert _ranks() == [("exclusive", 1), ("premium", 2), ("semi", 3), ("shared", 4)]
    audit = AuditLog.objects.get(action="level.created")
    assert (audit.object_id, audit.actor_id, audit.changes["price_cents"]) == (str(level.pk), staff_user.pk, 9000)


def test_update_moves_a_level_and_logs_what_changed(staff_user):
    exclusive, semi, shared = _three()
    level_update(level_id=shared.pk, name="Shared", slug="shared", rank=1, price_cents=3000, max_recipients=5,
                 active=True, actor=staff_user)
    assert _ranks() == [("shared", 1), ("exclusive", 2), ("semi", 3)]
    audit = AuditLog.objects.get(action="level.updated")
    assert audit.changes["rank"] == {"from": 3, "to": 1}
    assert audit.changes["price_cents"] == {"from": 2500, "to": 3000}


def test_reorder_sets_ranks_1_to_n(staff_user):
    exclusive, semi, shared = _three()
    levels = level_reorder(level_ids=[shared.pk, exclusive.pk, semi.pk], actor=staff_user)
    assert [(level.slug, level.rank) for level in levels] == [("shared", 1), ("exclusive", 2), ("semi", 3)]
    assert AuditLog.objects.get(action="level.reordered").changes == {
        "from": [exclusive.pk, semi.pk, shared.pk], "to": [shared.pk, exclusive.pk, semi.pk]}


@pytest.mark.parametrize("ids", [lambda a, b, c: [a, b], lambda a, b, c: [a, b, c, c], lambda a, b, c: [a, b, 999]])
def test_reorder_must_name_every_live_level_once(ids):
    levels = _three()
    from hotlead.core.exceptions import ValidationFailed

    with pytest.raises(ValidationFailed):
        level_reorder(level_ids=ids(*(level.pk for level in levels)))
    assert _ranks() == [("exclusive", 1), ("semi", 2), ("shared", 3)]


def test_move_up_and_down():
    exclusive, semi, shared = _three()
    level_move(level_id=shared.pk, steps=-1)
    assert _ranks() == [("exclusive", 1), ("shared", 2), ("semi", 3)]
    level_move(level_id=exclusive.pk, steps=-1)  # already first: nothing moves
    assert _ranks() == [("exclusive", 1), ("shared", 2), ("semi", 3)]


def test_an_unused_level_is_deleted_a_used_one_archived_and_its_subscriptions_cancelled(staff_user):
    exclusive, semi, shared = _three()
    subscription = SubscriptionFactory(level=semi)
    assert level_archive(level_id=exclusive.pk, actor=staff_user) == "deleted"
    assert not CompetitionLevel.objects.filter(pk=exclusive.pk).exists()
    assert level_archive(level_id=semi.pk, actor=staff_user) == "archived"
    semi.refresh_from_db()
    subscription.refresh_from_db()
    assert semi.archived_at is not None and semi.active is False
    assert subscription.status == SubscriptionStatus.CANCELLED and subscription.cancelled_at is not None
    # the archived level's rank can be used again
    level_create(name="New", slug="new", rank=2, price_cents=100, max_recipients=1)
    assert _ranks() == [("new", 2), ("shared", 3)]
    assert set(AuditLog.objects.values_list("action", flat=True)) >= {"level.deleted", "level.archived"}


def test_a_price_change_rechecks_subscribers_funds(django_capture_on_commit_callbacks):
    semi = LevelFactory(slug="semi", rank=1, price_cents=6000)
    provider = ProviderFactory(balance_cents=7000)
    subscription = SubscriptionFactory(provider=provider, level=semi)
    with django_capture_on_commit_callbacks(execute=True):
        level_update(level_id=semi.pk, name="Semi", slug="semi", rank=1, price_cents=8000, max_recipients=1,
                     active=True)
    subscription.refresh_from_db()
    assert subscription.status == SubscriptionStatus.INACTIVE_FUNDS


# --- the admin API ----------------------------------------------------------------------------------


def test_admin_api_lists_creates_updates_reorders_and_deletes(client, staff_headers):
    exclusive, semi, shared = _three()
    listed = client.get(URL, **staff_headers)
    assert listed.status_code == 200
    assert [row["slug"] for row in listed.json()] == ["exclusive", "semi", "shared"]

    created = client.post(URL, {"name": "Bronze", "slug": "bronze", "rank": 4, "price_cents": 1000,
                                "max_recipients": 8, "active": True}, content_type="application/json", **staff_headers)
    assert created.status_code == 201
    body = created.json()
    assert {k: body[k] for k in ("slug", "rank", "price_cents", "max_recipients", "active", "archived_at")} == \
        {"slug": "bronze", "rank": 4, "price_cents": 1000, "max_recipients": 8, "active": True, "archived_at": None}

    updated = client.put(f"{URL}/{body['id']}", {"name": "Bronze", "slug": "bronze", "rank": 4, "price_cents": 1200,
                                                 "max_recipients": 8, "active": False},
                         content_type="application/json", **staff_headers)
    assert updated.status_code == 200 and updated.json()["price_cents"] == 1200 and updated.json()["active"] is False

    order = [body["id"], shared.pk, semi.pk, exclusive.pk]
    reordered = client.post(f"{URL}/reorder", {"ids": order}, content_type="application/json", **staff_headers)
    assert reordered.status_code == 200
    assert [(row["id"], row["rank"]) for row in reordered.json()] == list(zip(order, [1, 2, 3, 4], strict=True))

    deleted = client.delete(f"{URL}/{body['id']}", **staff_headers)
    assert deleted.status_code == 200 and deleted.json() == {"id": body["id"], "outcome": "deleted"}


def test_admin_api_validates_levels(client, staff_headers):
    LevelFactory(slug="taken", rank=1)
    response = client.post(URL, {"name": "", "slug": "Bad Slug", "rank": 0, "price_cents": 0, "max_recipients": 0,
                                 "active": True}, content_type="application/json", **staff_headers)
    assert response.status_code == 422
    fields = {f["field"] for f in response.json()["error"]["details"]["fields"]}
    assert fields == {"name", "slug", "rank", "price_cents", "max_recipients"}
    duplicate = client.post(URL, {"name": "X", "slug": "taken", "rank": 2, "price_cents": 1, "max_recipients": 1},
                            content_type="application/json", **staff_headers)
    assert duplicate.status_code == 422
    assert CompetitionLevel.objects.count() == 1


def test_admin_api_is_staff_only(client, provider_headers):
    assert client.get(URL).status_code == 401
    assert client.get(URL, **provider_headers).status_code == 403
    assert client.post(f"{URL}/reorder", {"ids": []}, content_type="application/json",
                       **provider_headers).status_code == 403


def test_admin_api_unknown_level_is_404(client, staff_headers):
    response = client.put(f"{URL}/999", {"name": "X", "slug": "x", "rank": 1, "price_cents": 1, "max_recipients": 1,
                                         "active": True}, content_type="application/json", **staff_headers)
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    assert client.delete(f"{URL}/999", **staff_headers).status_code == 404


# --- concurrency --------------------------------------------------------------------------------------


def _run_in_threads(*targets) -> list[BaseException]:
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(targets))

    def wrap(target):
        def run():
            try:
                barrier.wait()
                target()
            except BaseException as exc:  # noqa: BLE001 - reported to the test
                errors.append(exc)
            finally:
                connection.close()
        return run

    threads = [threading.Thread(target=wrap(t)) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_reorders_keep_ranks_unique():
    levels = [LevelFactory(slug=f"l{i}", rank=i + 1) for i in range(6)]
    ids = [level.pk for level in levels]
    first, second = list(reversed(ids)), ids[3:] + ids[:3]
    for _ in range(5):
        errors = _run_in_threads(lambda: level_reorder(level_ids=first), lambda: level_reorder(level_ids=second))
        assert errors == []
        final = list(CompetitionLevel.objects.order_by("rank").values_list("pk", "rank"))
        assert [rank for _, rank in final] == [1, 2, 3, 4, 5, 6]
        assert [pk for pk, _ in final] in (first, second)


@pytest.mark.django_db(transaction=True)
def test_concurrent_creates_at_the_same_rank_both_land_with_unique_ranks():
    LevelFactory(slug="base", rank=1)
    errors = _run_in_threads(
        lambda: level_create(name="A", slug="a", rank=1, price_cents=100, max_recipients=1),
        lambda: level_create(name="B", slug="b", rank=1, price_cents=100, max_recipients=1),
    )
    assert errors == []
    ranks = [rank for _, rank in _ranks()]
    assert sorted(ranks) == [1, 2, 3] and dict(_ranks())["base"] == 3


def test_subscription_unique_while_live_is_kept_after_archive():
    level = LevelFactory()
    subscription = SubscriptionFactory(level=level)
    level_archive(level_id=level.pk)
    assert Subscription.objects.get(pk=subscription.pk).status == SubscriptionStatus.CANCELLED


def _wait_until_a_backend_waits_on_a_lock() -> None:
    """Poll PostgreSQL until another connection is blocked on a row lock (bounded; no fixed sleep)."""
    import time

    from django.db import connections

    deadline = time.monotonic() + 30
    with connections["default"].cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                           "AND datname = current_database()")
            if cursor.fetchone()[0]:
                return
    raise AssertionError("no connection ever waited on a lock")


@pytest.mark.django_db(transaction=True)
def test_a_reorder_queued_behind_a_create_sees_the_new_level_and_refuses_the_stale_list():
    # given two live levels, and a create at rank 3 that holds its transaction open
    from django.db import transaction

    from hotlead.core.exceptions import ValidationFailed

    a, b = LevelFactory(slug="a", rank=1), LevelFactory(slug="b", rank=2)
    created, release = threading.Event(), threading.Event()
    outcome: list[object] = []

    def create() -> None:
        try:
            with transaction.atomic():
                level_create(name="C", slug="c", rank=3, price_cents=100, max_recipients=1)
                created.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    def reorder() -> None:
        try:
            outcome.append(level_reorder(level_ids=[b.pk, a.pk]))  # the client has not seen "c" yet
        except Exception as exc:  # noqa: BLE001 - the test inspects it
            outcome.append(exc)
        finally:
            connection.close()

    creator = threading.Thread(target=create)
    creator.start()
    assert created.wait(timeout=30)
    reorderer = threading.Thread(target=reorder)
    reorderer.start()
    # when the reorder is queued on the live levels' locks and the create commits
    _wait_until_a_backend_waits_on_a_lock()
    release.set()
    creator.join()
    reorderer.join()
    # then the reorder refuses the list that misses "c" (a 422, not a NULL rank), and nothing moved
    assert len(outcome) == 1 and isinstance(outcome[0], ValidationFailed), outcome
    assert _ranks() == [("a", 1), ("b", 2), ("c", 3)]
