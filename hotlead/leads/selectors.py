"""Reads about categories and leads: the public category list, duplicates, the review queue, a lead's page."""
from __future__ import annotations

import copy
import functools
import re
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import zipcodes
from django.conf import settings
from django.db import connection
from django.db.models import Q, QuerySet

from hotlead.core.exceptions import NotFound
from hotlead.core.pagination import keyset_page
from hotlead.core.rows import FromRead
from hotlead.leads import references
from hotlead.leads.enums import LeadStatus
from hotlead.leads.models import Category, Lead, LeadEvent
from hotlead.leads.references import REFERENCE_PREFIX

PAGE_DEFAULT = 50
PAGE_MAX = 200
REFERENCE_TRIES = 20


def reference_unused() -> str:
    """A reference no lead has yet (checked against the table; the unique index settles a race)."""
    for _ in range(REFERENCE_TRIES):
        candidate = references.reference_generate()
        if not Lead.objects.filter(reference=candidate).exists():
            return candidate
    raise RuntimeError("Could not find an unused lead reference; widen REFERENCE_LENGTH.")


def categories_active() -> QuerySet[Category]:
    return Category.objects.filter(active=True).order_by("name", "slug")


def categories_all() -> QuerySet[Category]:
    return Category.objects.order_by("name", "slug")


_active_categories: dict = {"at": None, "by_slug": {}}


def category_active_by_slug(slug: str) -> Category | None:
    """The active category with this slug, from a per-process copy of the (few) active categories.

    The copy is dropped when a category is saved or deleted in this process (the signals in apps.py) and is
    read again after HOTLEAD_CATEGORY_CACHE_SECONDS in every other process (10 s; tests: every time).
    """
    now = time.monotonic()
    at = _active_categories["at"]
    if at is None or now - at >= getattr(settings, "HOTLEAD_CATEGORY_CACHE_SECONDS", 10):
        _active_categories["by_slug"] = {category.slug: category for category in Category.objects.filter(active=True)}
        _active_categories["at"] = now
    category = _active_categories["by_slug"].get(slug)
    return copy.copy(category) if category is not None else None


def categories_active_forget(**_signal) -> None:
    """Read the active categories again on the next look-up (a category changed)."""
    _active_categories["at"] = None


def lead_by_public_id(*, public_id: uuid.UUID) -> Lead:
    lead = Lead.objects.select_related("category", "duplicate_of", "reviewed_by").filter(public_id=public_id).first()
    if lead is None:
        raise NotFound("No such lead.")
    return lead


# One newest-first index scan per branch, in the order of (email, category, created_at) and (phone, category,
# created_at) so no branch sorts (ties of the same microsecond are settled by id outside). An OR of the two in one
# WHERE read every lead with either value and sorted them (a partner posting one phone number: all its leads).
_DUPLICATE_SQL = """
    SELECT id, public_id FROM (
        SELECT id, public_id, created_at FROM (
            SELECT id, public_id, created_at FROM leads_lead
             WHERE email = %s AND category_id = %s AND created_at >= %s AND status <> %s
             ORDER BY created_at DESC LIMIT 1) AS by_email
        UNION ALL
        SELECT id, public_id, created_at FROM (
            SELECT id, public_id, created_at FROM leads_lead
             WHERE phone = %s AND category_id = %s AND created_at >= %s AND status <> %s
             ORDER BY created_at DESC LIMIT 1) AS by_phone
    ) AS candidates ORDER BY created_at DESC, id DESC LIMIT 1
"""


def duplicate_read(*, email: str, phone: str, category_id: int, now: datetime) -> tuple[str, list]:
    """The query for the most recent lead in the window with the same e-mail or phone and category (expired ones
    aside: a submitter who let a code lapse and tried again is not a duplicate), as text and parameters: the intake
    sends it with the new lead's rows (`rows_insert`'s read), whose duplicate columns are `DUPLICATE_FLAG`,
    `DUPLICATE_OF_ID` and, in its first history event, `DUPLICATE_EVENT_DATA`. Its row: (id, public_id)."""
    since = connection.ops.adapt_datetimefield_value(now - timedelta(days=settings.HOTLEAD["DUPLICATE_WINDOW_DAYS"]))
    expired = LeadStatus.EXPIRED.value
    return _DUPLICATE_SQL, [email, category_id, since, expired, phone, category_id, since, expired]


def _duplicate_public_id(row: tuple) -> uuid.UUID:
    return Lead._meta.get_field("public_id").to_python(row[1])  # a raw cursor converts nothing (SQLite: hex)


# A new lead's duplicate columns from the row `duplicate_read` found (hotlead.core.rows.FromRead: the insert computes
# them on PostgreSQL, the same values as the Python here — tests/leads/test_submit_one_statement.py checks they
# agree, tests/leads/test_submit_sqlite.py runs the Python)
DUPLICATE_FLAG = FromRead("EXISTS (SELECT 1 FROM found)", lambda row: row is not None)
DUPLICATE_OF_ID = FromRead("SELECT id FROM found", lambda row: row[0] if row else None)
DUPLICATE_EVENT_DATA = FromRead(
    "COALESCE((SELECT jsonb_build_object('duplicate_of', public_id::text) FROM found), '{}'::jsonb)",
    lambda row: {"duplicate_of": str(_duplicate_public_id(row))} if row else {})


# --- the review queue (admin API) ----------------------------------------------------------------

@dataclass(frozen=True)
class LeadPage:
    items: list[Lead]
    next_cursor: str | None


REFERENCE_RE = re.compile(rf"^{REFERENCE_PREFIX}[A-Z0-9]{{5,9}}$")


def lead_search_q(q: str) -> Q:
    """Match a public id or a reference (HL-7K3Q9) exactly, else e-mail, name, postal code (normalised) or phone
    digits."""
    q = q.strip()
    try:
        return Q(public_id=uuid.UUID(q))
    except ValueError:
        pass
    if REFERENCE_RE.match(q.upper()):
        return Q(reference=q.upper())
    condition = Q(email__icontains=q) | Q(postal_code=re.sub(r"\s+", "", q).upper()) | Q(name__icontains=q)
    digits = re.sub(r"\D", "", q)
    if len(digits) >= 4:
        condition |= Q(phone__contains=digits)
    return condition


def leads_for_review(*, status: str | None = None, category: str | None = None,
                     possible_duplicate: bool | None = None, created_from: datetime | None = None,
                     created_to: datetime | None = None, q: str | None = None, cursor: str | None = None,
                     limit: int = PAGE_DEFAULT) -> LeadPage:
    """Newest first, keyset-paginated on (created_at, id)."""
    qs = Lead.objects.select_related("category", "duplicate_of")
    if status:
        qs = qs.filter(status=status)
    if category:
        qs = qs.filter(category__slug=category)
    if possible_duplicate is not None:
        qs = qs.filter(possible_duplicate=possible_duplicate)
    if created_from:
        qs = qs.filter(created_at__gte=created_from)
    if created_to:
        qs = qs.filter(created_at__lt=created_to)
    if q and q.strip():
        qs = qs.filter(lead_search_q(q))
    items, next_cursor = keyset_page(qs, order=("-created_at", "-id"), cursor=cursor, limit=limit)
    return LeadPage(items=items, next_cursor=next_cursor)


# --- one lead's page -----------------------------------------------------------------------------

def lead_history(*, lead_id: int) -> QuerySet[LeadEvent]:
    return LeadEvent.objects.filter(lead_id=lead_id).select_related("actor").order_by("created_at", "id")


@functools.lru_cache(maxsize=4096)
def postal_code_place(postal_code: str) -> str:
    """"San Francisco, CA" for a US ZIP code (the offline ZIP database); "" when unknown or outside the US."""
    if not (len(postal_code) == 5 and postal_code.isascii() and postal_code.isdigit()):
        return ""
    found = zipcodes.matching(postal_code)
    return f"{found[0]['city'].title()}, {found[0]['state']}" if found else ""
# --- the console's review queue: oldest first, keyset on (created_at, id) over the (status, created_at) index ---

def review_queue_page(*, cursor: str, limit: int) -> tuple[list[Lead], str | None]:
    """Up to `limit` leads waiting for review, oldest first, after the cursor; and the next page's cursor."""
    qs = Lead.objects.filter(status=LeadStatus.PENDING_REVIEW).select_related("category", "duplicate_of")
    return keyset_page(qs, order=("created_at", "id"), cursor=cursor, limit=limit)


def review_queue_count() -> int:
    return Lead.objects.filter(status=LeadStatus.PENDING_REVIEW).count()


def review_queue_leads_by_ids(*, ids: list[int]) -> list[Lead]:
    """The selected leads in queue order (any status: the service refuses what is not in review)."""
    return list(Lead.objects.filter(pk__in=ids).order_by("created_at", "id").only("pk", "public_id"))
