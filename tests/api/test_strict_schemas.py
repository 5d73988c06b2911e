"""api/schemas/strict.py: request bodies read with JSON's own types, validated once."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
from pydantic import ConfigDict, ValidationError, field_validator

from api.schemas.leads import LeadSubmitIn
from api.schemas.strict import StrictJson

_calls: list[str] = []


class _Body(StrictJson):
    model_config = ConfigDict(extra="forbid")

    name: str
    count: int

    @field_validator("name")
    @classmethod
    def _counted(cls, value):
        _calls.append(value)
        return value


def test_a_json_body_is_validated_once_even_when_extra_keys_are_forbidden():
    # given a schema forbidding extra keys (ninja's own root validator validates such a body twice)
    _calls.clear()
    # when a body is validated
    body = _Body.model_validate({"name": "Pat", "count": 2})
    # then each validator ran once, and the values are the body's
    assert _calls == ["Pat"]
    assert (body.name, body.count) == ("Pat", 2)


def test_an_extra_key_and_a_value_of_another_json_type_are_still_refused():
    with pytest.raises(ValidationError) as refused:
        _Body.model_validate({"name": "Pat", "count": "2", "admin": True})
    errors = {error["loc"][0]: error["msg"] for error in refused.value.errors()}
    assert errors == {"count": "Value error, Must be a number, not text.", "admin": "Extra inputs are not permitted"}


def test_an_object_is_still_read_by_its_attributes():
    # given an object rather than a dict (ninja's path: its attributes are read)
    body = _Body.model_validate(SimpleNamespace(name="Pat", count=3))
    assert (body.name, body.count) == ("Pat", 3)


def test_the_lead_form_body_keeps_every_constraint():
    good = {"name": "Pat", "email": "pat@example.com", "phone": "+14155550100", "postal_code": "94110",
            "category": "roofing", "description": "Our roof leaks over the kitchen.", "consent": True}
    assert LeadSubmitIn.model_validate(good).email == "pat@example.com"
    for field, bad in (("email", "not-an-address"), ("consent", False), ("category", "Roofing!"), ("name", "\u200b")):
        with pytest.raises(ValidationError) as refused:
            LeadSubmitIn.model_validate({**good, field: bad})
        assert [error["loc"][0] for error in refused.value.errors()] == [field]
