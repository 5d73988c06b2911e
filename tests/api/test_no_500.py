"""Never a 500 for bad input, anywhere under /api/v1 (SPEC §8): every operation of the OpenAPI document,
called by the role it is for, with odd values in each body field, each query parameter and each path
parameter. Each answer is a success or the SPEC body; none is a 500. New operations are covered without
touching this file.
"""
from __future__ import annotations

import json
import re

import pytest
from django.core.cache import cache

from hotlead.refunds.models import BadLeadReport
from tests.conftest import bearer
from tests.factories.distribution import make_assignment
from tests.factories.levels import SubscriptionFactory
from tests.factories.ops import DeadLetterFactory

pytestmark = pytest.mark.django_db

ODD_FIELD_VALUES = [None, "a\u0000b", 10**30, -1, [], {"x": 1}, "x" * 20_000, "💥", "2026-13-45"]
ODD_QUERY_VALUES = ["-1", "99999999999999999999", "%00", "abc", "2026-13-45", "x" * 3000]
ODD_PATH_VALUES = ["0", "-1", "99999999999999999999", "abc", "00000000-0000-0000-0000-000000000000", "%00", "x" * 300]


@pytest.fixture
def world(provider):
    """Real objects, so that path parameters can also name something that exists."""
    assignment = make_assignment(provider=provider)
    report = BadLeadReport.objects.create(assignment=assignment, provider=provider, reason="other", details="x")
    subscription = SubscriptionFactory(provider=provider)
    dead = DeadLetterFactory()
    return {
        "lead_id": str(assignment.lead.public_id), "assignment_id": str(assignment.pk), "report_id": str(report.pk),
        "provider_id": str(provider.pk), "subscription_id": str(subscription.pk), "dead_letter_id": str(dead.pk),
        "level_id": str(assignment.level_id), "slug": assignment.lead.category.slug,
    }


def _operations(schema: dict):
    for path, methods in schema["paths"].items():
        if "/_probe/" in path:
            continue  # tests/api/probe.py raises on purpose
        for method, operation in methods.items():
            fields: dict = {}
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
            if "$ref" in body:
                fields = schema["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]].get("properties", {})
            query = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
            yield path, method.upper(), fields, query


def _assert_not_a_500(response, what) -> None:
    assert response.status_code < 500, (what, response.status_code, response.content[:300])
    if response.status_code >= 400:
        body = response.json()
        assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}, (what, body)


def test_no_operation_answers_a_500_to_odd_input(client, world, staff_headers, provider_headers, settings):
    settings.PAYMENTS_WEBHOOK_SECRET = "s" * 40
    settings.HOTLEAD_EMAIL_EVENTS_SECRET = "whsec_" + "c" * 43 + "="
    client.raise_request_exception = False
    schema = client.get("/api/v1/openapi.json").json()
    calls = 0
    for path, method, fields, query in _operations(schema):
        headers = (staff_headers if path.startswith("/api/v1/admin/")
                   else provider_headers if path.startswith("/api/v1/provider/") else {})
        params = re.findall(r"{(\w+)}", path)
        real = re.sub(r"{(\w+)}", lambda m: world.get(m.group(1), "1"), path)
        urls = [real] + [re.sub(r"{\w+}", value, path) for value in ODD_PATH_VALUES if params]
        attempts = [(url, None) for url in urls]
        attempts += [(f"{real}?{name}={value}", None) for name in query for value in ODD_QUERY_VALUES]
        attempts += [(real, {field: value}) for field in fields for value in ODD_FIELD_VALUES]
        for url, body in attempts:
            cache.clear()  # rate limits stay out of the way
            if body is None and method in ("POST", "PUT", "PATCH"):
                body = {}
            if body is None:
                response = client.generic(method, url, **headers)
            else:
                response = client.generic(method, url, json.dumps(body), content_type="application/json", **headers)
            _assert_not_a_500(response, (method, url, body and str(body)[:80]))
            calls += 1
    assert calls > 500  # the document really listed the API


def test_the_wrong_role_or_no_token_never_meets_a_500_either(client, world, provider_headers, settings):
    from hotlead.accounts.tokens import access_token_encode
    from tests.factories.accounts import StaffFactory

    settings.PAYMENTS_WEBHOOK_SECRET = "s" * 40
    settings.HOTLEAD_EMAIL_EVENTS_SECRET = "whsec_" + "c" * 43 + "="
    client.raise_request_exception = False
    schema = client.get("/api/v1/openapi.json").json()
    staff_without_mfa = bearer(access_token_encode(user=StaffFactory(), mfa=False)[0])
    for path, method, _fields, _query in _operations(schema):
        url = re.sub(r"{(\w+)}", lambda m: world.get(m.group(1), "1"), path)
        for headers in ({}, staff_without_mfa, provider_headers, {"HTTP_AUTHORIZATION": "Bearer a\u0000b"}):
            response = client.generic(method, url, "{}", content_type="application/json", **headers)
            _assert_not_a_500(response, (method, url, headers))
