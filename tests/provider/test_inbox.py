"""GET /provider/inbox: newest first, filters, keyset pagination, no contact data, bounded queries."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from hotlead.core.pagination import cursor_encode
from tests.factories.distribution import make_assignment
from tests.factories.leads import LeadFactory

INBOX = "/api/v1/provider/inbox"
T0 = datetime(2026, 2, 10, 18, 0, tzinfo=UTC)

pytestmark = pytest.mark.django_db


def _sell(provider, *, at, level, category=None, **fields):
    lead = LeadFactory(status="distributed", **({"category": category} if category else {}))
    return make_assignment(lead=lead, provider=provider, level=level, assigned_at=at, **fields)


def test_inbox_lists_own_assignments_newest_first_without_contact_data(
    client, provider, provider_headers, other_provider, shared_level, roofing
):
    # given: two of mine (one lead also sold to another provider) and one of someone else's
    older = _sell(provider, at=T0, level=shared_level)
    newer = _sell(provider, at=T0 + timedelta(minutes=5), level=shared_level)
    make_assignment(lead=newer.lead, provider=other_provider, level=shared_level, assigned_at=T0)
    theirs = _sell(other_provider, at=T0 + timedelta(hours=1), level=shared_level)

    # when
    response = client.get(INBOX, **provider_headers)

    # then
    assert response.status_code == 200
    body = response.json()
    assert body["next_cursor"] is None
    assert [item["assignment_id"] for item in body["items"]] == [newer.pk, older.pk]
    assert theirs.pk not in {item["assignment_id"] for item in body["items"]}
    assert body["items"][0] == {
        "assignment_id": newer.pk,
        "lead_id": str(newer.lead.public_id),
        "status": "assigned",
        "level": "semi-exclusive",
        "price_cents": 6000,
        "category": "roofing",
        "postal_code": "94110",
        "assigned_at": "2026-02-10T18:05:00Z",
        "buyers_count": 2,
        "max_buyers": 3,
    }
    assert body["items"][1]["buyers_count"] == 1
    text = response.content.decode()
    assert newer.lead.email not in text and newer.lead.phone not in text and newer.lead.name not in text


def test_pagination_returns_every_row_exactly_once_while_new_leads_arrive(
    client, provider, provider_headers, shared_level
):
    # given: 23 assignments, with runs of identical timestamps that straddle page boundaries
    original = [_sell(provider, at=T0 + timedelta(minutes=i // 4), level=shared_level) for i in range(23)]
    seen: list[int] = []
    cursor = None
    arrived = []

    # when: a page is read, then new leads are sold before the next page is read
    for page_number in range(10):
        url = f"{INBOX}?limit=5" + (f"&cursor={cursor}" if cursor else "")
        body = client.get(url, **provider_headers).json()
        seen += [item["assignment_id"] for item in body["items"]]
        arrived.append(_sell(provider, at=T0 + timedelta(days=1, minutes=page_number), level=shared_level))
        cursor = body["next_cursor"]
        if cursor is None:
            break

    # then: each original row exactly once, in (assigned_at, id) descending order; the newcomers never slip in
    assert len(seen) == len(set(seen)) == 23
    expected = sorted(original, key=lambda a: (a.assigned_at, a.pk), reverse=True)
    assert seen == [a.pk for a in expected]
    assert not set(seen) & {a.pk for a in arrived}
    assert page_number == 4


def test_filters_by_status_category_and_local_dates(client, provider, provider_headers, shared_level, plumbing):
    # given: the provider is in Los Angeles (UTC−8 in February)
    assert provider.timezone == "America/Los_Angeles"
    late_on_9th_local = _sell(provider, at=datetime(2026, 2, 10, 7, 30, tzinfo=UTC), level=shared_level)
    on_10th_local = _sell(provider, at=datetime(2026, 2, 10, 8, 30, tzinfo=UTC), level=shared_level,
                          status="accepted")
    plumbing_lead = _sell(provider, at=datetime(2026, 2, 11, 9, 0, tzinfo=UTC), level=shared_level,
                          category=plumbing)

    def ids(query: str) -> list[int]:
        response = client.get(f"{INBOX}?{query}", **provider_headers)
        assert response.status_code == 200, response.content
        return [item["assignment_id"] for item in response.json()["items"]]

    # when / then
    assert ids("status=accepted") == [on_10th_local.pk]
    assert ids("category=plumbing") == [plumbing_lead.pk]
    assert ids("category=roofing") == [on_10th_local.pk, late_on_9th_local.pk]
    assert ids("date_from=2026-02-10&date_to=2026-02-10") == [on_10th_local.pk]
    assert ids("date_to=2026-02-09") == [late_on_9th_local.pk]
    assert ids("date_from=2026-02-11") == [plumbing_lead.pk]
    assert ids("status=rejected") == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=201", "limit"),
        ("limit=0", "limit"),
        ("status=sold", "status"),
        ("category=no-such-category", "category"),
        ("cursor=not-a-cursor", "cursor"),
        ("date_from=2026-02-11&date_to=2026-02-10", None),
        ("date_from=yesterday", "date_from"),
    ],
)
def test_bad_query_is_a_422_naming_the_field(client, provider_headers, query, field):
    response = client.get(f"{INBOX}?{query}", **provider_headers)

    assert response.status_code == 422
    body = response.json()["error"]
    assert body["code"] == "validation_error"
    if field:
        assert field in {f["field"] for f in body["details"]["fields"]}


@pytest.mark.parametrize(("query", "field"), [("category=ro%00of", "category"), ("cursor=%00", "cursor"),
                                              ("status=%00", "status")])
def test_a_nul_character_is_a_422_not_a_database_error(client, provider_headers, query, field):
    response = client.get(f"{INBOX}?{query}", **provider_headers)

    assert response.status_code == 422
    assert response.json()["error"]["details"]["fields"][0]["field"] == field


def test_the_calendars_last_day_is_an_open_ended_range_not_a_500(client, provider, provider_headers, shared_level):
    # given
    mine = _sell(provider, at=T0, level=shared_level)

    # when: the last day there is (its next day does not exist)
    until_the_end = client.get(f"{INBOX}?date_to=9999-12-31", **provider_headers)
    from_the_end = client.get(f"{INBOX}?date_from=9999-12-31&date_to=9999-12-31", **provider_headers)

    # then
    assert until_the_end.status_code == 200
    assert [item["assignment_id"] for item in until_the_end.json()["items"]] == [mine.pk]
    assert from_the_end.status_code == 200 and from_the_end.json()["items"] == []


def test_a_forged_cursor_of_another_shape_is_refused(client, provider_headers):
    forged = cursor_encode(T0, 2**63)

    response = client.get(f"{INBOX}?cursor={forged}", **provider_headers)

    assert response.status_code == 422
    assert response.json()["error"]["details"]["fields"][0]["field"] == "cursor"


def test_without_a_token_the_inbox_is_401(client):
    response = client.get(INBOX)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_inbox_query_count_does_not_grow_with_the_page_size(
    client, provider, provider_headers, shared_level, django_assert_max_num_queries
):
    # given
    for i in range(30):
        _sell(provider, at=T0 + timedelta(minutes=i), level=shared_level)

    # when
    counts = {}
    for limit in (2, 30):
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(f"{INBOX}?limit={limit}&category=roofing&status=assigned", **provider_headers)
        assert len(response.json()["items"]) == limit
        counts[limit] = len(ctx.captured_queries)

    # then: authentication (user, provider), the category slug, the page's keys and the page's rows
    assert counts[2] == counts[30]
    with django_assert_max_num_queries(5):
        client.get(f"{INBOX}?limit=200&category=roofing", **provider_headers)
    with django_assert_max_num_queries(4):
        client.get(f"{INBOX}?limit=200", **provider_headers)


def test_inbox_observes_the_query_duration_metric(client, provider_headers):
    from hotlead.portal.metrics import INBOX_QUERY_DURATION

    before = INBOX_QUERY_DURATION.labels(surface="api")._sum.get()
    count_before = sum(b.get() for b in INBOX_QUERY_DURATION.labels(surface="api")._buckets)

    client.get(INBOX, **provider_headers)

    assert sum(b.get() for b in INBOX_QUERY_DURATION.labels(surface="api")._buckets) == count_before + 1
    assert INBOX_QUERY_DURATION.labels(surface="api")._sum.get() > before
