"""The API keeps the contract its document states (issue 15): Schemathesis 4 over the whole of
/api/v1/openapi.json, every check (status_code_conformance, positive_data_acceptance, negative_data_rejection,
content types, response schemas, auth, unsupported methods…), as an anonymous caller, a provider and staff.

The requests go through the real WSGI application (middleware, URLconf, parser, handlers) on the test
database. Generation is derandomized and bounded (HOTLEAD_SCHEMATHESIS_EXAMPLES, default 4 per operation and
phase), so the run is repeatable and takes a few minutes on two cores. Referential values a random string
cannot hit (an active category slug, a level slug) are supplied, like credentials, by the fixture below;
everything else is generated from the document.
"""
from __future__ import annotations

import itertools
import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from hotlead.accounts.tokens import access_token_encode
from tests.factories.accounts import StaffFactory, totp_device_for
from tests.factories.leads import CategoryFactory
from tests.factories.levels import LevelFactory
from tests.factories.providers import ProviderFactory

MAX_EXAMPLES = int(os.environ.get("HOTLEAD_SCHEMATHESIS_EXAMPLES", "4"))
CALLERS = ["anonymous", "provider", "staff"]


@pytest.fixture(params=CALLERS)
def caller(request, db, settings):
    """(name, headers) of one kind of caller; rate limits raised so that validation, not the limit, answers."""
    settings.PAYMENTS_WEBHOOK_SECRET = "whsec_schemathesis_0123456789"  # unsigned calls: 401, not 503
    settings.HOTLEAD_EMAIL_EVENTS_SECRET = "whsec_c2NoZW1hdGhlc2lzMDEyMzQ1Njc4OQ=="  # the same for e-mail events
    settings.HOTLEAD = {**settings.HOTLEAD,
                        "RATE_LIMITS": {scope: "100000/60" for scope in settings.HOTLEAD["RATE_LIMITS"]}}
    CategoryFactory(slug="roofing", name="Roofing")
    LevelFactory(slug="exclusive", name="Exclusive")
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


# `format: phone` (this project's own format name, see PHONE_DESCRIPTION): numbers a person would type
schemathesis.openapi.format("phone", st.sampled_from([
    "+14155550100", "(415) 555-0134", "415-555-0199", "+1 212 555 0147", "2125550123", "+442079460958",
]))


# `format: us-zip` (US_ZIP_DESCRIPTION): ZIP codes that exist, as people type them (the server looks each one up)
schemathesis.openapi.format("us-zip", st.sampled_from([
    "94110", "10001", "60614-1234", " 30301 ", "021391234", "00501", "73301", "94 110",
]))


schemathesis.openapi.format("iana-timezone", st.sampled_from([
    "America/New_York", "America/Los_Angeles", "Europe/London", "UTC", "Asia/Kolkata", "Australia/Sydney",
]))


def _load_schema():
    from hotlead.wsgi import application

    loaded = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)  # no database needed
    # NUL is refused in every text (422, PostgreSQL cannot store it): the error schema says so in words
    loaded.config.generation.update(max_examples=MAX_EXAMPLES, deterministic=True, allow_x00=False)
    return loaded.exclude(path_regex="/_probe/")  # test-only operations (tests/api/probe.py) fail on purpose


schema = _load_schema()


def _is_positive(case) -> bool:
    meta = getattr(case, "meta", None)
    return meta is not None and meta.generation.mode.is_positive


@schemathesis.hook
def before_call(context, case, kwargs):
    """Values only the server can issue or that must name something that exists, filled in like credentials:
    a random string is a well-formed cursor, category or e-mailed token, and rightly refused as unknown."""
    if not _is_positive(case):
        return
    if isinstance(case.query, dict):
        case.query.pop("cursor", None)  # next_cursor of an earlier page only
        _report_range(case.operation.path, case.query)
        if "category" in case.query:
            case.query["category"] = "roofing"
    body = case.body if isinstance(case.body, dict) else None
    if body is None:
        return
    path = case.operation.path
    _report_range(path, body)
    if isinstance(body.get("category"), str):
        body["category"] = "roofing"
    if isinstance(body.get("categories"), list):
        body["categories"] = ["roofing"] if body["categories"] else []
    if isinstance(body.get("level"), str) and "subscriptions" in path:
        body["level"] = "exclusive"
    if body.get("webhook_url"):
        body["webhook_url"] = "https://hooks.example.com/hotlead"  # the server checks the host is public
    if path.endswith("/provider/webhook") and body.get("url"):
        body["url"] = "https://hooks.example.com/hotlead"  # the same rule for the webhook endpoint itself
    if "subscriptions" in path:
        _subscription_rules(body)
    if path.endswith("/auth/register") and isinstance(body.get("email"), str):
        body["email"] = f"n{next(_UNIQUE)}.{body['email']}"  # a new account needs an unused e-mail address
    if path.endswith("/admin/competition-levels") and isinstance(body.get("slug"), str):
        body["slug"] = f"{body['slug']}-{next(_UNIQUE)}"  # a new level needs a slug no level has used
    if path.endswith("/competition-levels/reorder") and isinstance(body.get("ids"), list):
        from hotlead.levels.models import CompetitionLevel

        body["ids"] = list(CompetitionLevel.objects.filter(archived_at__isnull=True).order_by("-rank")
                           .values_list("id", flat=True))  # every live level once, in a new order
    if path.endswith(("/auth/verify-email", "/auth/reset-password")) and isinstance(body.get("token"), str):
        body["token"] = _one_time_token("email_verify" if path.endswith("verify-email") else "password_reset")


_UNIQUE = itertools.count(1)


def _report_range(path: str, values: dict) -> None:
    """A report's range ends on or after its start and spans at most 731 days: a rule across two fields."""
    if "/reports/" in path and {"date_from", "date_to"} & set(values):
        values.update(date_from="2026-01-01", date_to="2026-03-31")


def _subscription_rules(body: dict) -> None:
    """Rules across fields that JSON Schema cannot state, kept by positive cases (the server refuses the
    rest with a 422 naming the field): caps ordered daily <= weekly <= monthly, a budget covering one lead,
    a schedule whose end differs from its start; filters follow the grammar in the field's description."""
    caps = [name for name in ("daily_cap", "weekly_cap", "monthly_cap") if isinstance(body.get(name), int)]
    for name, value in zip(caps, sorted(body[name] for name in caps), strict=True):
        body[name] = value
    if isinstance(body.get("monthly_budget_cents"), int):
        body["monthly_budget_cents"] = max(body["monthly_budget_cents"], 2_500)
    schedule = body.get("schedule")
    if isinstance(schedule, dict) and schedule.get("start") == schedule.get("end"):
        schedule["end"] = "23:59" if schedule["start"] != "23:59" else "00:00"
    if isinstance(body.get("filters"), list):
        body["filters"] = [{"field": "budget_cents", "op": "gte", "value": 50_000},
                           {"field": "category", "op": "in", "value": ["roofing"]}][: len(body["filters"])]


def _one_time_token(purpose: str) -> str:
    from datetime import timedelta

    from hotlead.accounts.services.one_time import one_time_token_create

    provider = ProviderFactory()
    return one_time_token_create(user=provider.user, purpose=purpose, ttl=timedelta(hours=1))


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
