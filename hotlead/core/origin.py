"""Where an action came from: the client's address, its user agent and the request id.

The edge (hotlead/core/middleware.py) builds one `Origin` per request and binds it for the request; the
domain reads `current_origin()` (the audit log, per-address rate limits) and never sees the request itself.
Outside a request (jobs, management commands) the origin is empty; a job or a test can bind one with
`origin_bound(...)`.
"""
from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Origin:
    client_ip: str = ""
    user_agent: str = ""
    request_id: str = ""


_EMPTY = Origin()
_origin_var: contextvars.ContextVar[Origin] = contextvars.ContextVar("origin", default=_EMPTY)


def current_origin() -> Origin:
    """The origin bound for this request (or job); an empty Origin when none is."""
    return _origin_var.get()


@contextmanager
def origin_bound(origin: Origin) -> Iterator[Origin]:
    """Bind `origin` for the block, restoring the previous one afterwards."""
    token = _origin_var.set(origin)
    try:
        yield origin
    finally:
        _origin_var.reset(token)
