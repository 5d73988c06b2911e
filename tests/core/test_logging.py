"""JSON logs: one JSON object a line, with the request id and user id, personal data masked."""
import json
import logging

import pytest

from hotlead.core.logging import JsonFormatter, RequestContextFilter, mask_email, mask_phone, mask_pii
from hotlead.core.request_context import request_id_var, user_id_var


@pytest.mark.parametrize("text, masked", [
    ("jane.doe@example.com", "j***@example.com"),
    ("write to Bob+tag@mail.example.co.uk now", "write to B***@mail.example.co.uk now"),
    ("two: a@b.io, c.d@e.org", "two: a***@b.io, c***@e.org"),
    ("no address here", "no address here"),
])
def test_mask_email(text, masked):
    assert mask_email(text) == masked


@pytest.mark.parametrize("text, masked", [
    ("+14155550100", "***00"),
    ("call +1 (415) 555-0100 today", "call ***00 today"),
    ("415.555.0199", "***99"),
    ("+44 20 7946 0958", "***58"),
])
def test_mask_phone(text, masked):
    assert mask_phone(text) == masked


@pytest.mark.parametrize("text", [
    "2026-11-28 16:15:00,123",           # a timestamp
    "2026-11-28T16:15:00+00:00",
    "from 192.168.100.200",             # an IP address
    "lead 42 charged 12000 cents",      # ids and amounts
    "request 8f14e45fceea167a5a36dedd4bea2543",
])
def test_mask_pii_leaves_what_is_not_personal(text):
    assert mask_pii(text) == text


def test_mask_pii_reaches_into_lists_and_dicts():
    value = {"to": ["jane@example.com"], "contact": {"phone": "+1 415 555 0100"}, "count": 3}
    assert mask_pii(value) == {"to": ["j***@example.com"], "contact": {"phone": "***00"}, "count": 3}


def _format(record_kwargs: dict, *, request_id=None, user_id=None, extra=None) -> dict:
    record = logging.LogRecord(name="hotlead.test", level=logging.INFO, pathname=__file__, lineno=1,
                               args=(), exc_info=None, **record_kwargs)
    for key, value in (extra or {}).items():
        setattr(record, key, value)
    rid, uid = request_id_var.set(request_id), user_id_var.set(user_id)
    try:
        RequestContextFilter().filter(record)
    finally:
        request_id_var.reset(rid)
        user_id_var.reset(uid)
    return json.loads(JsonFormatter().format(record))


def test_a_log_line_is_json_with_request_id_user_id_and_masked_values():
    line = _format({"msg": "login failed"},
                   request_id="req-1", user_id=7, extra={"email": "jane.doe@example.com", "attempt": 2})
    assert line["level"] == "INFO" and line["logger"] == "hotlead.test"
    assert line["request_id"] == "req-1" and line["user_id"] == 7
    assert line["email"] == "j***@example.com" and line["attempt"] == 2
    assert line["time"][:2] == "20" and "***" not in line["time"]


def test_a_message_with_personal_data_is_masked():
    record = logging.LogRecord("hotlead.test", logging.WARNING, __file__, 1, "sent to %s at %s",
                               ("jane.doe@example.com", "+1 415 555 0100"), None)
    RequestContextFilter().filter(record)
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "sent to j***@example.com at ***00"


def test_a_traceback_is_masked_too():
    try:
        raise ValueError("duplicate key (email)=(jane.doe@example.com)")
    except ValueError:
        import sys

        exc_info = sys.exc_info()
    record = logging.LogRecord("hotlead.test", logging.ERROR, __file__, 1, "failed", (), exc_info)
    RequestContextFilter().filter(record)
    line = json.loads(JsonFormatter().format(record))
    assert "ValueError" in line["exc_info"] and "j***@example.com" in line["exc_info"]
    assert "jane.doe" not in json.dumps(line)
