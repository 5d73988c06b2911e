"""Per-request log context (request id, user id) for log lines and error bodies; jobs set the request id of
the request that queued them. The request facts the domain may read (address, user agent, request id) are the
request's Origin (hotlead/core/origin.py); the audit log falls back to this request id when no Origin carries one."""
from __future__ import annotations

import contextvars

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
user_id_var: contextvars.ContextVar[int | None] = contextvars.ContextVar("user_id", default=None)


def current_request_id() -> str | None:
    return request_id_var.get()
