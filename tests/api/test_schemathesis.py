"""The API keeps the contract its document states (issue 15): Schemathesis 4 over the whole of
/api/v1/openapi.json, every check (status_code_conformance, positive_data_acceptance, negative_data_rejection,
content types, response schemas, auth, unsupported methods…), as an anonymous caller, a provider and staff.

The requests go through the real WSGI application (middleware, URLconf, parser, handlers) on the test
database. Generation is derandomized and bounded (HOTLEAD_SCHEMATHESIS_EXAMPLES, default 6 per operation and
phase), so the run is repeatable and takes a few minutes on two cores. Referential values a random string
cannot hit (an active category slug, a level slug) are supplied, like credentials, by the fixture below;
everything else is generated from the document.
"""
from __future__ import annotations

import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings

from hotlead.accounts.tokens import access_token_encode
from tests.factories.accounts import StaffFactory, totp_device_for
from tests.factories.leads import CategoryFactory
from tests.factories.providers import ProviderFactory

MAX_EXAMPLES = int(os.environ.get("HOTLEAD_SCHEMATHESIS_EXAMPLES", "6"))
CALLERS = ["anonymous", "provider", "staff"]


@pytest.fixture(params=CALLERS)
def caller(request, db, settings):
    """(name, headers) of one kind of caller; rate limits raised so that validation, not the limit, answers."""
    settings.HOTLEAD = {**settings.HOTLEAD,
                        "RATE_LIMITS": {scope: "100000/60" for scope in settings.HOTLEAD["RATE_LIMITS"]}}
    CategoryFactory(slug="roofing", name="Roofing")
    if request.param == "provider":
        provider = ProviderFactory()
        token, _ = access_token_encode(user=provider.user, mfa=False)
        return request.param, {"Authorization": f"Bearer {token}"}
    if request.param == "staff":
        staff = StaffFactory()
        totp_device_for(staff)
        token, _ = access_token_encode(user=staff, mfa=True)
        return request.param, {"Authorization": f"Bearer {token}"}
    return request.param, {}


def _load_schema():
    from hotlead.wsgi import application

    loaded = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)  # no database needed
    loaded.config.generation.update(max_examples=MAX_EXAMPLES, deterministic=True)
    return loaded.exclude(path_regex="/_probe/")  # test-only operations (tests/api/probe.py) fail on purpose


schema = _load_schema()


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """The WSGI handler would close the test's connection (and its transaction) after each request;
    Django's own test client prevents it with the same two lines."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, derandomize=True, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
def test_the_api_keeps_its_documented_contract(case, caller):
    _name, headers = caller
    case.call_and_validate(headers=headers)
