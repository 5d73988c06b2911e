"""Mount the test-only probe operations (tests/api/probe.py) on the real API before any URL is built."""
from api.v1 import api
from tests.api import probe

if not any(router is probe.router for _prefix, router in api._routers):
    api.add_router(probe.PREFIX, probe.router, tags=["test-only probes"])
