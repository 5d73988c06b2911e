"""JSON logs with the request id and user id; personal data masked."""
from __future__ import annotations

import logging
import re

from pythonjsonlogger.json import JsonFormatter as _BaseJsonFormatter

from hotlead.core.request_context import request_id_var, user_id_var

_EMAIL = re.compile(r"([A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]*@([A-Za-z0-9.\-]+\.[A-Za-z]{2,})")
_PHONE = re.compile(r"(?<![\w])(\+?\d[\d\s().\-]{6,}\d)(?![\w])")


def mask_email(value: str) -> str:
    return _EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", value)


def mask_phone(value: str) -> str:
    def _mask(match: re.Match) -> str:
        digits = re.sub(r"\D", "", match.group(1))
        return "***" + digits[-2:] if len(digits) >= 7 else match.group(1)

    return _PHONE.sub(_mask, value)


def mask_pii(value: str) -> str:
    """Mask e-mail addresses and phone numbers anywhere in a string."""
    return mask_phone(mask_email(value))


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

    def process_log_record(self, log_record):
        for key, value in list(log_record.items()):
            if isinstance(value, str):
                log_record[key] = mask_pii(value)
        return super().process_log_record(log_record)
