"""Subscription filters (SPEC §4.4): what a filter may say, how it is validated, and what it means.

A subscription's ``filters`` is a list of ``{"field": F, "op": OP, "value": V}``. All filters must
match (AND); an empty list matches every lead. Filters are validated and normalised once, when the
subscription is saved (`filters_validate`); what is stored is the normalised form, so the
distribution engine can translate it to SQL without re-checking.

Fields, the lead attribute each one reads, and the operators it accepts:

=============  ==========================  ========================================  =======================
field          lead attribute              value type (per op)                       operators
=============  ==========================  ========================================  =======================
category       lead.category.slug          slug string (an existing category)        eq ne in not_in
postal_code    lead.postal_code            string, stored upper-case, no spaces      eq ne in not_in prefix
budget_cents   lead.budget_cents (null)    integer 0…2,147,483,647                   eq ne in not_in
                                                                                     gte lte between
timeline       lead.timeline ("" = none)   "asap" | "within_month" | "flexible"      eq ne in not_in
source         lead.source                 string (case-sensitive, trimmed)          eq ne in not_in prefix
=============  ==========================  ========================================  =======================

Values by operator:

- ``eq`` / ``ne``: one scalar of the field's type.
- ``in`` / ``not_in``: a non-empty list (at most 200 items) of the field's type; duplicates are dropped
  (first occurrence kept, order preserved).
- ``gte`` / ``lte``: one integer; inclusive (``lead >= value`` / ``lead <= value``).
- ``between``: ``[lo, hi]``, two integers with ``lo <= hi``; inclusive on both ends (``lo <= lead <= hi``).
- ``prefix``: a non-empty string; matches when the lead's value starts with it (case-sensitive after the
  normalisation above: postal codes are compared upper-case without spaces, sources as given). Or a
  non-empty list of such strings (at most 200): matches when the value starts with ANY of them — "ZIP codes
  starting with 941 or 946" is one filter, since filters are ANDed (issue 14).

A lead that has no value for the field (``budget_cents`` null, ``timeline`` empty) is *missing*:
- ``eq``, ``in``, ``gte``, ``lte``, ``between``, ``prefix`` do NOT match a missing value;
- ``ne``, ``not_in`` DO match a missing value (a missing value is not equal to anything).
In SQL: ``ne`` is ``col IS DISTINCT FROM v``; ``not_in`` is ``(col IS NULL OR col NOT IN (...))`` — for
``timeline`` treat ``''`` as NULL (``NULLIF(timeline, '')``).

At most 20 filters per subscription. A filter has exactly the keys field, op and value. Errors name the
filter: each problem is reported as ``{"field": "filters.<i>[.value]", "message": …,
"filter": {"index": i, "field": F, "op": OP}}`` inside the SPEC §8 422 body.

`filter_matches` / `filters_match` are the reference semantics in Python; the engine's SQL must agree.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from hotlead.core.exceptions import ValidationFailed
from hotlead.leads.enums import Timeline
from hotlead.leads.models import Category
from hotlead.levels.enums import FilterField, FilterOp

MAX_FILTERS = 20
MAX_LIST_ITEMS = 200
MAX_BUDGET_CENTS = 2_147_483_647

_EQUALITY = frozenset({FilterOp.EQ, FilterOp.NE, FilterOp.IN, FilterOp.NOT_IN})
_RANGE = frozenset({FilterOp.GTE, FilterOp.LTE, FilterOp.BETWEEN})
_LIST_OPS = frozenset({FilterOp.IN, FilterOp.NOT_IN})
_MATCHES_MISSING = frozenset({FilterOp.NE, FilterOp.NOT_IN})


@dataclass(frozen=True)
class FieldSpec:
    kind: str  # "slug" | "postal" | "int" | "choice" | "text"
    ops: frozenset[str]
    max_length: int = 0
    choices: tuple[str, ...] = ()


FIELD_SPECS: dict[str, FieldSpec] = {
    FilterField.CATEGORY: FieldSpec(kind="slug", ops=_EQUALITY, max_length=64),
    FilterField.POSTAL_CODE: FieldSpec(kind="postal", ops=_EQUALITY | {FilterOp.PREFIX}, max_length=12),
    FilterField.BUDGET_CENTS: FieldSpec(kind="int", ops=_EQUALITY | _RANGE),
    FilterField.TIMELINE: FieldSpec(kind="choice", ops=_EQUALITY, choices=tuple(Timeline.values)),
    FilterField.SOURCE: FieldSpec(kind="text", ops=_EQUALITY | {FilterOp.PREFIX}, max_length=64),
}


class _BadValue(Exception):
    pass


def _scalar(spec: FieldSpec, value: Any) -> Any:
    """One value of the field's type, normalised; raises _BadValue with a readable message."""
    if spec.kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise _BadValue("must be an integer (cents)")
        if not 0 <= value <= MAX_BUDGET_CENTS:
            raise _BadValue(f"must be between 0 and {MAX_BUDGET_CENTS}")
        return value
    if not isinstance(value, str):
        raise _BadValue("must be a string")
    value = "".join(value.split()).upper() if spec.kind == "postal" else value.strip()
    if not value:
        raise _BadValue("must not be empty")
    if spec.max_length and len(value) > spec.max_length:
        raise _BadValue(f"must be at most {spec.max_length} characters")
    if spec.kind == "choice" and value not in spec.choices:
        raise _BadValue(f"must be one of {', '.join(spec.choices)}")
    return value


def _value(spec: FieldSpec, op: str, value: Any) -> Any:
    if op in _LIST_OPS:
        if not isinstance(value, list) or not value:
            raise _BadValue("must be a non-empty list")
        if len(value) > MAX_LIST_ITEMS:
            raise _BadValue(f"must have at most {MAX_LIST_ITEMS} items")
        items: list[Any] = []
        for position, item in enumerate(value):
            try:
                normalised = _scalar(spec, item)
            except _BadValue as exc:
                raise _BadValue(f"(item {position}) {exc}")
            if normalised not in items:
                items.append(normalised)
        return items
    if op == FilterOp.PREFIX and isinstance(value, list):
        if not value:
            raise _BadValue("must be a non-empty string or list of strings")
        if len(value) > MAX_LIST_ITEMS:
            raise _BadValue(f"must have at most {MAX_LIST_ITEMS} items")
        prefixes: list[str] = []
        for position, item in enumerate(value):
            try:
                normalised = _scalar(spec, item)
            except _BadValue as exc:
                raise _BadValue(f"(item {position}) {exc}")
            if normalised not in prefixes:
                prefixes.append(normalised)
        return prefixes
    if op == FilterOp.BETWEEN:
        if not isinstance(value, list) or len(value) != 2:
            raise _BadValue("must be a list of two integers [lo, hi]")
        lo, hi = (_scalar(spec, item) for item in value)
        if lo > hi:
            raise _BadValue("must have lo <= hi")
        return [lo, hi]
    if isinstance(value, list):
        raise _BadValue("must be a single value, not a list")
    return _scalar(spec, value)


def filters_validate(filters: Any, *, category_slugs: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """Check every filter and return them normalised; raise ValidationFailed naming each bad filter.

    `category_slugs` is the set of known categories; by default it is read from the database.
    """
    if filters is None:
        return []
    if not isinstance(filters, list):
        raise ValidationFailed.for_field("filters", "Filters must be a list of {field, op, value} objects.")
    if len(filters) > MAX_FILTERS:
        raise ValidationFailed.for_field("filters", f"At most {MAX_FILTERS} filters are allowed.")
    errors: list[dict[str, Any]] = []
    normalised: list[dict[str, Any]] = []

    def bad(index: int, item: Any, message: str, *, on_value: bool = False) -> None:
        field = item.get("field") if isinstance(item, Mapping) else None
        op = item.get("op") if isinstance(item, Mapping) else None
        errors.append({
            "field": f"filters.{index}.value" if on_value else f"filters.{index}",
            "message": message,
            "filter": {"index": index, "field": field, "op": op},
        })

    for index, item in enumerate(filters):
        if not isinstance(item, Mapping):
            bad(index, item, "A filter must be an object with field, op and value.")
            continue
        extra = sorted(set(item) - {"field", "op", "value"})
        missing = [key for key in ("field", "op", "value") if key not in item]
        if extra or missing:
            parts = ([f"missing {', '.join(missing)}"] if missing else []) + (
                [f"unknown key(s) {', '.join(extra)}"] if extra else [])
            bad(index, item, f"A filter has exactly field, op and value ({'; '.join(parts)}).")
            continue
        field, op, value = item["field"], item["op"], item["value"]
        spec = FIELD_SPECS.get(field) if isinstance(field, str) else None
        if spec is None:
            bad(index, item, f"Unknown field {field!r}; use one of {', '.join(FIELD_SPECS)}.")
            continue
        if not isinstance(op, str) or op not in FilterOp.values:
            bad(index, item, f"Unknown operator {op!r}; use one of {', '.join(FilterOp.values)}.")
            continue
        if op not in spec.ops:
            allowed = ", ".join(o for o in FilterOp.values if o in spec.ops)
            bad(index, item, f"Operator '{op}' does not apply to '{field}'; use one of {allowed}.")
            continue
        try:
            clean = _value(spec, op, value)
        except _BadValue as exc:
            bad(index, item, f"The value of '{field} {op}' {exc}.", on_value=True)
            continue
        normalised.append({"field": field, "op": op, "value": clean})

    if not errors:
        wanted = {
            slug
            for f in normalised if f["field"] == FilterField.CATEGORY
            for slug in (f["value"] if isinstance(f["value"], list) else [f["value"]])
        }
        if wanted:
            known = set(category_slugs) if category_slugs is not None else _known_categories(wanted)
            for index, f in enumerate(normalised):
                if f["field"] != FilterField.CATEGORY:
                    continue
                values = f["value"] if isinstance(f["value"], list) else [f["value"]]
                unknown = [slug for slug in values if slug not in known]
                if unknown:
                    bad(index, f, f"Unknown category {', '.join(unknown)}.", on_value=True)
    if errors:
        raise ValidationFailed("Some subscription filters are not valid.", details={"fields": errors})
    return normalised


def _known_categories(slugs: set[str]) -> set[str]:
    return set(Category.objects.filter(slug__in=slugs).values_list("slug", flat=True))


def lead_filter_values(lead) -> dict[str, Any]:
    """The values a lead offers to filters, normalised like stored filters (missing = None)."""
    return {
        FilterField.CATEGORY: lead.category.slug,
        FilterField.POSTAL_CODE: "".join((lead.postal_code or "").split()).upper() or None,
        FilterField.BUDGET_CENTS: lead.budget_cents,
        FilterField.TIMELINE: lead.timeline or None,
        FilterField.SOURCE: lead.source or None,
    }


def filter_matches(flt: Mapping[str, Any], values: Mapping[str, Any]) -> bool:
    """The reference semantics of one normalised filter against a lead's values."""
    op, expected = flt["op"], flt["value"]
    actual = values.get(flt["field"])
    if actual is None:
        return op in _MATCHES_MISSING
    if op == FilterOp.EQ:
        return actual == expected
    if op == FilterOp.NE:
        return actual != expected
    if op == FilterOp.IN:
        return actual in expected
    if op == FilterOp.NOT_IN:
        return actual not in expected
    if op == FilterOp.GTE:
        return actual >= expected
    if op == FilterOp.LTE:
        return actual <= expected
    if op == FilterOp.BETWEEN:
        return expected[0] <= actual <= expected[1]
    if op == FilterOp.PREFIX:
        return any(str(actual).startswith(p) for p in (expected if isinstance(expected, list) else [expected]))
    return False


def filters_match(filters: Iterable[Mapping[str, Any]], values: Mapping[str, Any]) -> bool:
    return all(filter_matches(flt, values) for flt in filters)
