"""JSON logs with the request id and user id; personal data masked.

Every string in a log line (the message, extra fields, the formatted traceback) passes through
`mask_pii`, so an e-mail address or phone number in an exception message never reaches the logs.
"""
from __future__ import annotations

import logging
import re
from typing import Any

from pythonjsonlogger.json import JsonFormatter as _BaseJsonFormatter

from hotlead.core.request_context import request_id_var, user_id_var

_EMAIL = re.compile(r"([A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]*@([A-Za-z0-9.\-]+\.[A-Za-z]{2,})")
_PHONE = re.compile(r"(?<![\w.:])(\+?\(?\d[\d\s().\-]{5,}\d)(?![\w:])")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DOTTED_QUAD = re.compile(r"\d{1,3}(\.\d{1,3}){3}")
# Fields the formatter itself writes: never personal, and masking would garble them.
_TRUSTED_FIELDS = {"time", "level", "logger", "request_id", "user_id", "route", "method", "status"}


def mask_email(value: str) -> str:
    """jane.doe@example.com → j***@example.com"""
    return _EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", value)


def mask_phone(value: str) -> str:
    """+1 (415) 555-0100 → ***00; dates, times and IP addresses are left alone."""

    def _mask(match: re.Match) -> str:
        text = match.group(1)
        digits = re.sub(r"\D", "", text)
        if not 7 <= len(digits) <= 15 or _ISO_DATE.match(text) or _DOTTED_QUAD.fullmatch(text.strip()):
            return text
        return "***" + digits[-2:]

    return _PHONE.sub(_mask, value)


def mask_pii(value: Any) -> Any:
    """Mask e-mail addresses and phone numbers in a string, or in every string of a list or dict."""
    if isinstance(value, str):
        return mask_phone(mask_email(value))
    if isinstance(value, dict):
        return {key: mask_pii(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [mask_pii(item) for item in value]
    return value


class RequestContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        record.user_id = user_id_var.get()
        return True


class JsonFormatter(_BaseJsonFormatter):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("fmt", "%(asctime)s %(levelname)s %(name)s %(message)s")
        kwargs.setdefault("rename_fields", {"asctime": "time", "levelname": "level", "name": "logger"})
        super().__init__(*args, **kwargs)

    def process_log_record(self, log_data):
        for key, value in list(log_data.items()):
            if key not in _TRUSTED_FIELDS:
                log_data[key] = mask_pii(value)
        return super().process_log_record(log_data)
