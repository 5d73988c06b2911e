"""Per-request context (request id, user id) readable from logs, audit and errors."""
from __future__ import annotations

import contextvars

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
user_id_var: contextvars.ContextVar[int | None] = contextvars.ContextVar("user_id", default=None)


def current_request_id() -> str | None:
    return request_id_var.get()
