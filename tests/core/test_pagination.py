"""The one keyset-cursor helper: cursors round-trip, old cursors still read, anything else is a 422 on `cursor`."""
from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest

from hotlead.core.exceptions import ValidationFailed
from hotlead.core.pagination import cursor_decode, cursor_encode

AT = datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=UTC)


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def test_a_cursor_round_trips_its_key():
    assert cursor_decode(cursor_encode(AT, 42), datetime, int) == (AT, 42)
    assert cursor_decode(cursor_encode(7), int) == (7,)


@pytest.mark.parametrize(("value", "kinds", "key"), [
    (_b64(f"{AT.isoformat()}|42"), (datetime, int), (AT, 42)),     # ledger, inbox
    (_b64(f'["{AT.isoformat()}", 42]'), (datetime, int), (AT, 42)),  # leads, bad-lead reports
    (_b64("id:9"), (int,), (9,)),                                    # dead letters
    (_b64("p:9"), (int,), (9,)),                                     # providers
    ("9", (int,), (9,)),                                             # lead sources, subscriptions
])
def test_cursors_handed_out_before_the_helper_still_read(value, kinds, key):
    assert cursor_decode(value, *kinds) == key


@pytest.mark.parametrize("value", [
    "!!!", "garbage", "\x00", "²", "-1", "9" * 30, "0", cursor_encode(AT, 2**63),
    cursor_encode(AT.replace(tzinfo=None), 1),
    _b64("[true]"), _b64('["x", 1]'), cursor_encode(AT, 1, 2),
])
def test_anything_else_is_a_422_on_cursor_with_the_lists_message(value):
    kinds = (int,) if value in {"-1", "9" * 30, "0", _b64("[true]")} else (datetime, int)
    with pytest.raises(ValidationFailed) as caught:
        cursor_decode(value, *kinds, message="The cursor is not valid; start again without it.")
    assert caught.value.details["fields"][0]["field"] == "cursor"
    assert caught.value.details["fields"][0]["message"] == "The cursor is not valid; start again without it."
