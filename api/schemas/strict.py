"""JSON bodies are read with JSON's own types (issue 15): the document says `integer`, `boolean`, `string` and
the server holds to it. pydantic's lax mode would take `false` for 0, `"12"` for 12 and `1` for true — requests
the document calls invalid; here they are a 422 naming the field. Query strings are text by nature and keep
pydantic's conversions, except dates: `?date_to=0` is not the first of January 1970.
"""
from __future__ import annotations

import re
import types
import typing
from datetime import date, datetime
from typing import Annotated, Any

from ninja import Schema
from pydantic import BeforeValidator, ValidationInfo, field_validator, model_validator

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?)?$")


def _kinds(annotation) -> set[type]:
    """The plain Python types an annotation admits (Optional, unions and Annotated unwrapped)."""
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return _kinds(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return set().union(*(_kinds(arg) for arg in typing.get_args(annotation)))
    if origin is typing.Literal:
        return {type(arg) for arg in typing.get_args(annotation)}
    if origin is not None:
        return {origin}
    return {annotation} if isinstance(annotation, type) else {object}


def json_type_error(value: Any, kinds: set[type]) -> str | None:
    """Why `value` (parsed JSON) is not of the field's JSON type, or None."""
    if value is None or object in kinds or Any in kinds:
        return None
    if isinstance(value, bool):
        return None if bool in kinds else "Must not be a boolean."
    if bool in kinds and not kinds & {int, float, str}:
        return "Must be true or false."
    if isinstance(value, int | float) and kinds & {date, datetime} and not kinds & {int, float}:
        return "Must be a date as text (ISO 8601), not a number."
    if isinstance(value, str) and kinds & {int, float} and not kinds & {str}:
        return "Must be a number, not text."
    if isinstance(value, float) and int in kinds and float not in kinds:
        return "Must be a whole number."
    return None


# Each field's JSON types, worked out once per schema and field (an annotation never changes), not per request
_field_kinds: dict[tuple[type, str], set[type]] = {}
# ninja's root validator of a Schema (overridden below): its function, to call with our class
_ninja_root_validator = Schema.__pydantic_decorators__.model_validators["_run_root_validator"].func.__func__


class StrictJson(Schema):
    """Base of request bodies: each field takes only values of its JSON type."""

    @model_validator(mode="wrap")
    @classmethod
    def _run_root_validator(cls, values, handler, info: ValidationInfo):
        """A JSON body (a dict) validated once. ninja's own validator (this name overrides it) wraps the values in
        its DjangoGetter, for attributes of Django objects and `resolve_` methods — nothing a body of JSON values
        needs — and, when the schema forbids extra keys, validates them twice (once bare, for those keys): every
        pattern and validator of every request ran twice. Anything else (an object, a schema with resolvers) is
        left to ninja's."""
        if isinstance(values, dict) and not cls._ninja_resolvers:
            return handler(values)
        return _ninja_root_validator(cls, values, handler, info)

    @field_validator("*", mode="before")
    @classmethod
    def _json_type(cls, value, info: ValidationInfo):
        key = (cls, info.field_name or "")
        kinds = _field_kinds.get(key)
        if kinds is None:
            field = cls.model_fields.get(key[1])
            if field is None:
                return value
            kinds = _field_kinds[key] = _kinds(field.annotation)
        if isinstance(value, float) and value.is_integer() and int in kinds and float not in kinds:
            return int(value)  # JSON Schema: 2.0 is an integer
        if message := json_type_error(value, kinds):
            raise ValueError(message)
        return value


def _iso_date(value):
    if isinstance(value, str) and not _ISO_DATE.match(value.strip()):
        raise ValueError("Use a date as YYYY-MM-DD.")
    return value


def _iso_datetime(value):
    if isinstance(value, str) and not _ISO_DATETIME.match(value.strip()):
        raise ValueError("Use an ISO 8601 date-time, e.g. 2026-01-31T12:00:00Z.")
    return value


IsoDate = Annotated[date, BeforeValidator(_iso_date)]
IsoDateTime = Annotated[datetime, BeforeValidator(_iso_datetime)]


# --- text the server can use: these patterns are enforced by the schemas that carry them (pydantic) and
# published in the document, so a request the document calls valid is one the server takes -----------------

# At least one character that is neither whitespace nor invisible (format/control: bidi, zero-width…):
# names are cleaned of those before storage (hotlead.core.text), and a name of nothing else is empty.
VISIBLE_TEXT = (
    "[^\\s\\x00-\\x1f\\x7f-\\x9f\\u00ad\\u0600-\\u0605\\u061c\\u06dd\\u070f\\u0890\\u0891\\u08e2\\u180e"
    "\\u200b-\\u200f\\u202a-\\u202e\\u2060-\\u2064\\u2066-\\u206f\\ufeff\\ufff9-\\ufffb"
    "\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0001\U000e0020-\U000e007f]"
)
# An e-mail address as the server takes it (Django's EmailValidator accepts more; this is the documented subset)
EMAIL_PATTERN = (  # spaces around it are trimmed; the local part is Django's dot-atom
    r"^ *[-!#$%&'*+/=?^_`{}|~0-9A-Za-z]{1,64}(?:\.[-!#$%&'*+/=?^_`{}|~0-9A-Za-z]{1,64}){0,8}"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.){1,8}[A-Za-z]{2,24} *$"
)
SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
# 3 to 10 letters, digits or dashes; spaces anywhere are ignored (the server removes them)
POSTAL_CODE_PATTERN = r"^ *(?:[A-Za-z0-9-] *){3,10}$"
# A US ZIP code: 5 digits or ZIP+4 (94110-1234 or 941101234), ASCII digits only; spaces anywhere are ignored.
# The shape only: whether the ZIP exists is the server's check (`format: us-zip`, see US_ZIP_DESCRIPTION).
US_ZIP_PATTERN = r"^ *(?:[0-9] *){5}(?:(?:- *)?(?:[0-9] *){4})?$"
US_ZIP_DESCRIPTION = ("A US ZIP code that exists (the USPS list): 5 digits or ZIP+4, e.g. `94110` or `94110-1234`; "
                      "spaces are removed and the 5-digit ZIP is stored. `format: us-zip` is this project's own "
                      "format name; an unknown ZIP is a 422.")


def text_at_least(length: int) -> str:
    """At least `length` characters between the first and the last that is not whitespace (the server strips
    whitespace around a text before it counts)."""
    return rf"^\s*\S[\s\S]{{{length - 2},}}\S\s*$" if length >= 2 else r"\S"


def documented(**constraints) -> dict:
    """JSON Schema constraints published in the document but checked by the domain service, which reports
    every bad field of the request at once (pydantic would stop at its own and hide the others)."""
    keys = {"min_length": "minLength", "pattern": "pattern", "enum": "enum"}
    return {"json_schema_extra": {keys[k]: v for k, v in constraints.items()}}


PHONE_DESCRIPTION = ("A phone number: E.164 (`+14155550100`) or national in the default region (HOTLEAD_PHONE_REGION, "
                     "default US), e.g. `(415) 555-0100`. `format: phone` is this project's own format name.")


TIMEZONE_DESCRIPTION = ("A time zone name of the IANA database, e.g. America/New_York (`format: iana-timezone`, this "
                        "project's own format name; unknown names are a 422)")
