"""Test-only operations on the real `api`, for the two errors no real endpoint raises on demand:
an unexpected exception (500) and a rate limit hit (429).

They are mounted on the one NinjaAPI by tests/api/conftest.py, at collection time, before any URL is
resolved: the requests then go through the real URLconf, middleware, parser and exception handlers.
ninja refuses `add_router` once `api.urls` was built, so the mount can never be silently missing.
"""
from __future__ import annotations

from ninja import Router

from hotlead.core.ratelimit import rate_limit_hit

PREFIX = "/_probe"
router = Router()


@router.get("/boom")
def boom(request):
    # The message carries personal data on purpose: the log must mask it, the body must not show it.
    raise RuntimeError("database said: duplicate key for jane.doe@example.com, phone +1 415 555 0100")


@router.get("/limited")
def limited(request):
    rate_limit_hit(scope="probe", key="one-client", rule="2/3600")
    return {"ok": True}
