"""The provider's inbox and lead page (SPEC §7): their own assignments, newest first.

Keyset pagination on (assigned_at, id) descending: a page is "the `limit` rows strictly older than
the cursor", read straight off the (provider, -assigned_at, -id) indexes with no sort and no
OFFSET, so page 1,000 costs what page 1 costs, and leads sold between two page loads (always newer)
never shift a later page.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Count, OuterRef, QuerySet, Subquery

from hotlead.core.exceptions import NotFound, ValidationFailed
from hotlead.core.pagination import MAX_DB_ID, cursor_decode, cursor_encode, keyset_after
from hotlead.distribution.models import Assignment
from hotlead.leads.models import Category
from hotlead.leads.selectors import postal_code_place

INBOX_DEFAULT_LIMIT = 50
INBOX_MAX_LIMIT = 200


InboxCursor = tuple[datetime, int]
INBOX_ORDER = ("-assigned_at", "-id")


def inbox_cursor_decode(value: str) -> InboxCursor:
    """Parse an opaque cursor; anything that is not one of ours is a 422 on `cursor`."""
    return cursor_decode(value, datetime, int, message="This cursor is not valid; start again from the first page.")


@dataclass(frozen=True)
class InboxRow:
    """One line of the inbox. Never carries the submitter's contact data."""

    assignment_id: int
    lead_id: uuid.UUID
    status: str
    level: str
    level_name: str
    price_cents: int
    category: str
    category_name: str
    postal_code: str
    assigned_at: datetime
    buyers_count: int
    max_buyers: int


@dataclass(frozen=True)
class InboxPage:
    items: list[InboxRow]
    next_cursor: str | None


def day_bounds(
    *, tz_name: str, date_from: date | None, date_to: date | None
) -> tuple[datetime | None, datetime | None]:
    """Whole days in the provider's time zone → [start, end) instants; both dates inclusive.

    The last day the calendar has (9999-12-31) has no next day: it leaves the range open-ended.
    """
    tz = ZoneInfo(tz_name)
    start = datetime.combine(date_from, time.min, tzinfo=tz) if date_from else None
    end = datetime.combine(date_to + timedelta(days=1), time.min, tzinfo=tz) if date_to and date_to < date.max \
        else None
    return start, end


def category_id_for_slug(slug: str) -> int:
    category_id = Category.objects.filter(slug=slug).values_list("id", flat=True).first()
    if category_id is None:
        raise ValidationFailed.for_field("category", f"There is no category '{slug}'.")
    return category_id


def _buyers_count_subquery() -> Subquery:
    """How many providers bought the row's lead (an index-only count per row on (lead, provider))."""
    return Subquery(
        Assignment.objects.filter(lead_id=OuterRef("lead_id"))
        .order_by()
        .values("lead_id")
        .annotate(n=Count("*"))
        .values("n")
    )


INBOX_COLUMNS = (
    "id", "lead__public_id", "status", "level__slug", "level__name", "price_cents", "category__slug",
    "category__name", "lead__postal_code", "assigned_at", "buyers_count", "level__max_recipients",
)


def inbox_keys_queryset(
    *,
    provider_id: int,
    status: str | None = None,
    category_id: int | None = None,
    assigned_from: datetime | None = None,
    assigned_before: datetime | None = None,
    cursor: InboxCursor | None = None,
    limit: int = INBOX_DEFAULT_LIMIT,
) -> QuerySet:
    """(id, assigned_at) of one page plus one row, to know whether another page follows.

    Only columns of the (provider[, status | category], -assigned_at, -id) indexes are read, so the page
    is an index-only range scan in index order: no heap, no sort, whatever the page's depth.
    """
    limit = max(1, min(limit, INBOX_MAX_LIMIT))
    qs = Assignment.objects.filter(provider_id=provider_id)
    if status:
        qs = qs.filter(status=status)
    if category_id is not None:
        qs = qs.filter(category_id=category_id)
    if assigned_from is not None:
        qs = qs.filter(assigned_at__gte=assigned_from)
    if assigned_before is not None:
        qs = qs.filter(assigned_at__lt=assigned_before)
    if cursor is not None:
        qs = keyset_after(qs, INBOX_ORDER, cursor)
    return qs.order_by(*INBOX_ORDER).values_list("id", "assigned_at")[: limit + 1]


def inbox_rows_queryset(*, ids: list[int]) -> QuerySet:
    """The inbox columns of the given assignments (primary-key lookups, in no particular order)."""
    return Assignment.objects.filter(pk__in=ids).annotate(buyers_count=_buyers_count_subquery()).order_by() \
        .values_list(*INBOX_COLUMNS)


def inbox_for_provider(
    *,
    provider_id: int,
    status: str | None = None,
    category_id: int | None = None,
    assigned_from: datetime | None = None,
    assigned_before: datetime | None = None,
    cursor: InboxCursor | None = None,
    limit: int = INBOX_DEFAULT_LIMIT,
) -> InboxPage:
    """One page of the provider's assignments, newest first: two queries whatever the page size or depth.

    First the page's keys off the index, then its rows by primary key. In one query PostgreSQL may prefer
    the plain assigned_at index (rows arrive in time order, so it looks cheap) and filter and re-sort;
    split, the key query has only one sensible plan.
    """
    limit = max(1, min(limit, INBOX_MAX_LIMIT))
    keys = list(inbox_keys_queryset(
        provider_id=provider_id, status=status, category_id=category_id, assigned_from=assigned_from,
        assigned_before=assigned_before, cursor=cursor, limit=limit,
    ))
    page_keys = keys[:limit]
    by_id = {row[0]: row for row in inbox_rows_queryset(ids=[pk for pk, _ in page_keys])} if page_keys else {}
    items = [InboxRow(*by_id[pk]) for pk, _ in page_keys if pk in by_id]
    next_cursor = None
    if len(keys) > limit:
        last_id, last_assigned_at = page_keys[-1]
        next_cursor = cursor_encode(last_assigned_at, last_id)
    return InboxPage(items=items, next_cursor=next_cursor)


@dataclass(frozen=True)
class InboxLeadDetails:
    """What the portal's inbox adds to a row for its buyer (never for the API's list): who, what, how to call."""

    first_name: str
    snippet: str
    budget_cents: int | None
    timeline: str
    email: str
    phone: str
    place: str


SNIPPET_LENGTH = 120


def _snippet(text: str, length: int = SNIPPET_LENGTH) -> str:
    text = " ".join(text.split())
    return text if len(text) <= length else text[: length - 1].rsplit(" ", 1)[0] + "…"


def inbox_lead_details(*, provider_id: int, assignment_ids: list[int]) -> dict[int, InboxLeadDetails]:
    """The buyer's view of the leads on one inbox page, by assignment id: one query by primary key.

    Only the provider's own assignments are read (the buyer may see the contact data of a lead they bought).
    """
    rows = Assignment.objects.filter(provider_id=provider_id, pk__in=assignment_ids).values_list(
        "id", "lead__name", "lead__description", "lead__budget_cents", "lead__timeline", "lead__email",
        "lead__phone", "lead__postal_code")
    return {
        pk: InboxLeadDetails(first_name=(name.split() or [""])[0], snippet=_snippet(description),
                             budget_cents=budget, timeline=timeline, email=email, phone=phone,
                             place=postal_code_place(postal_code))
        for pk, name, description, budget, timeline, email, phone, postal_code in rows
    }


def assignment_get_for_provider(*, provider_id: int, assignment_id: int) -> Assignment:
    """The provider's own assignment with its lead (contact data), level and report; anyone else's is 404."""
    if not 0 < assignment_id <= MAX_DB_ID:
        raise NotFound("No such lead in your inbox.")
    assignment = (
        Assignment.objects.filter(pk=assignment_id, provider_id=provider_id)
        .select_related("lead", "level", "category", "bad_lead_report")
        .annotate(buyers_count=_buyers_count_subquery())
        .first()
    )
    if assignment is None:
        raise NotFound("No such lead in your inbox.")
    return assignment
