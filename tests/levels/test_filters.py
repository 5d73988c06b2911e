"""Subscription filters: validated and normalised at save; errors name the filter; reference semantics."""
from __future__ import annotations

import pytest

from hotlead.core.exceptions import ValidationFailed
from hotlead.levels.filters import filter_matches, filters_match, filters_validate

KNOWN = {"roofing", "plumbing"}


def _errors(filters) -> list[dict]:
    with pytest.raises(ValidationFailed) as excinfo:
        filters_validate(filters, category_slugs=KNOWN)
    assert excinfo.value.http_status == 422
    return excinfo.value.details["fields"]


def test_valid_filters_are_normalised():
    result = filters_validate([
        {"field": "postal_code", "op": "prefix", "value": " 94 1"},
        {"field": "category", "op": "in", "value": ["roofing", "plumbing", "roofing"]},
        {"field": "budget_cents", "op": "between", "value": [10000, 50000]},
        {"field": "timeline", "op": "not_in", "value": ["flexible"]},
        {"field": "source", "op": "eq", "value": " partner-a "},
        {"field": "postal_code", "op": "in", "value": ["94110", "sw1a 1aa"]},
    ], category_slugs=KNOWN)
    assert result == [
        {"field": "postal_code", "op": "prefix", "value": "941"},
        {"field": "category", "op": "in", "value": ["roofing", "plumbing"]},
        {"field": "budget_cents", "op": "between", "value": [10000, 50000]},
        {"field": "timeline", "op": "not_in", "value": ["flexible"]},
        {"field": "source", "op": "eq", "value": "partner-a"},
        {"field": "postal_code", "op": "in", "value": ["94110", "SW1A1AA"]},
    ]


def test_a_prefix_may_be_a_list_normalised_like_one_prefix():
    # issue 14: "ZIP codes starting with 941 or 946" is one filter (filters are ANDed)
    result = filters_validate([{"field": "postal_code", "op": "prefix", "value": [" 94 1", "946", "941"]}],
                              category_slugs=KNOWN)
    assert result == [{"field": "postal_code", "op": "prefix", "value": ["941", "946"]}]
    [error] = _errors([{"field": "postal_code", "op": "prefix", "value": []}])
    assert error["field"] == "filters.0.value" and "non-empty" in error["message"]


def test_no_filters_is_an_empty_list():
    assert filters_validate(None) == [] and filters_validate([]) == []


@pytest.mark.parametrize(("bad", "message_part"), [
    ({"field": "colour", "op": "eq", "value": "red"}, "Unknown field 'colour'"),
    ({"field": "budget_cents", "op": "like", "value": 1}, "Unknown operator 'like'"),
    ({"field": "timeline", "op": "gte", "value": "asap"}, "Operator 'gte' does not apply to 'timeline'"),
    ({"field": "category", "op": "prefix", "value": "roof"}, "Operator 'prefix' does not apply to 'category'"),
    ({"field": "budget_cents", "op": "gte", "value": "100"}, "must be an integer"),
    ({"field": "budget_cents", "op": "gte", "value": True}, "must be an integer"),
    ({"field": "budget_cents", "op": "lte", "value": -1}, "must be between 0 and"),
    ({"field": "budget_cents", "op": "between", "value": [5, 1]}, "lo <= hi"),
    ({"field": "budget_cents", "op": "between", "value": [5]}, "two integers"),
    ({"field": "budget_cents", "op": "eq", "value": [5]}, "single value"),
    ({"field": "timeline", "op": "eq", "value": "someday"}, "must be one of asap"),
    ({"field": "postal_code", "op": "in", "value": []}, "non-empty list"),
    ({"field": "postal_code", "op": "in", "value": "94110"}, "non-empty list"),
    ({"field": "source", "op": "in", "value": ["ok", 3]}, "(item 1) must be a string"),
    ({"field": "postal_code", "op": "prefix", "value": "  "}, "must not be empty"),
    ({"field": "category", "op": "eq", "value": "gardening"}, "Unknown category gardening"),
])
def test_a_bad_filter_is_named_by_index_field_and_op(bad, message_part):
    good = {"field": "postal_code", "op": "eq", "value": "94110"}
    errors = _errors([good, bad])
    assert len(errors) == 1
    error = errors[0]
    assert error["filter"] == {"index": 1, "field": bad["field"], "op": bad["op"]}
    assert error["field"] in ("filters.1", "filters.1.value")
    assert message_part in error["message"]


def test_every_bad_filter_is_reported():
    errors = _errors([{"field": "x", "op": "eq", "value": 1}, {"field": "budget_cents", "op": "gte", "value": "a"}])
    assert [e["filter"]["index"] for e in errors] == [0, 1]


@pytest.mark.parametrize("bad", [
    "budget_cents >= 5",
    {"field": "budget_cents", "op": "gte"},
    {"field": "budget_cents", "op": "gte", "value": 5, "extra": 1},
])
def test_a_filter_must_be_an_object_with_exactly_field_op_value(bad):
    errors = _errors([bad])
    assert errors[0]["field"] == "filters.0" and errors[0]["filter"]["index"] == 0


def test_filters_must_be_a_list_of_at_most_20():
    assert _errors({"field": "source"})[0]["field"] == "filters"
    assert "At most 20" in _errors([{"field": "source", "op": "eq", "value": "a"}] * 21)[0]["message"]


def test_category_existence_is_checked_against_the_database(db):
    from tests.factories.leads import CategoryFactory

    CategoryFactory(slug="roofing")
    assert filters_validate([{"field": "category", "op": "eq", "value": "roofing"}]) == \
        [{"field": "category", "op": "eq", "value": "roofing"}]
    with pytest.raises(ValidationFailed):
        filters_validate([{"field": "category", "op": "eq", "value": "gardening"}])


@pytest.mark.parametrize(("flt", "lead", "expected"), [
    ({"field": "budget_cents", "op": "between", "value": [100, 200]}, {"budget_cents": 100}, True),
    ({"field": "budget_cents", "op": "between", "value": [100, 200]}, {"budget_cents": 200}, True),
    ({"field": "budget_cents", "op": "between", "value": [100, 200]}, {"budget_cents": 201}, False),
    ({"field": "budget_cents", "op": "gte", "value": 100}, {"budget_cents": None}, False),
    ({"field": "budget_cents", "op": "ne", "value": 100}, {"budget_cents": None}, True),
    ({"field": "timeline", "op": "not_in", "value": ["asap"]}, {"timeline": None}, True),
    ({"field": "timeline", "op": "in", "value": ["asap"]}, {"timeline": None}, False),
    ({"field": "postal_code", "op": "prefix", "value": "941"}, {"postal_code": "94110"}, True),
    ({"field": "postal_code", "op": "prefix", "value": "941"}, {"postal_code": "94011"}, False),
    ({"field": "postal_code", "op": "prefix", "value": ["100", "941"]}, {"postal_code": "94110"}, True),
    ({"field": "postal_code", "op": "prefix", "value": ["100", "940"]}, {"postal_code": "94110"}, False),
    ({"field": "source", "op": "eq", "value": "Web"}, {"source": "web"}, False),
])
def test_reference_semantics(flt, lead, expected):
    assert filter_matches(flt, lead) is expected


def test_all_filters_must_match():
    filters = [{"field": "budget_cents", "op": "gte", "value": 100}, {"field": "timeline", "op": "eq", "value": "asap"}]
    assert filters_match(filters, {"budget_cents": 150, "timeline": "asap"}) is True
    assert filters_match(filters, {"budget_cents": 150, "timeline": "flexible"}) is False
    assert filters_match([], {}) is True
