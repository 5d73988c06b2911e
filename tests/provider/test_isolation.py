"""Another provider's objects are 404 on every provider endpoint — never 403, never listed, never changed.

Parametrised over the OpenAPI document itself: every operation under /provider/ with a path
parameter is called with another provider's id. A new endpoint whose object kind has no maker
below fails here until one is added, so it cannot be forgotten.
"""
from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.db import models
from django.forms.models import model_to_dict

from api.v1 import api
from tests.factories.distribution import make_assignment

PREFIX = "/api/v1"
PARAM = re.compile(r"\{([^}]+)\}")


def _provider_operations() -> list[tuple[str, str]]:
    schema = api.get_openapi_schema(path_prefix=PREFIX + "/")
    ops = []
    for path, methods in schema["paths"].items():
        if path.startswith(f"{PREFIX}/provider/") and PARAM.search(path):
            ops += [(method.upper(), path) for method in methods if method in ("get", "post", "put", "patch",
                                                                               "delete")]
    return sorted(ops)


OPERATIONS = _provider_operations()


# ---- makers: (path pattern) → a function creating another provider's object of that kind -----------------

def _assignment(owner) -> models.Model:
    return make_assignment(provider=owner)


def _subscription(owner) -> models.Model:
    from tests.factories.levels import SubscriptionFactory

    return SubscriptionFactory(provider=owner)


def _webhook_delivery(owner) -> models.Model:
    from hotlead.webhooks.services import webhook_endpoint_configure, webhook_event_emit

    webhook_endpoint_configure(provider=owner, url="https://crm.example.org/hooks")
    return webhook_event_emit(provider_id=owner.pk, type="lead.refunded", data={"n": 1})


def _export(owner) -> models.Model:
    from datetime import date, timedelta

    from django.utils import timezone

    from reports.models import ExportJob

    return ExportJob.objects.create(requested_by=owner.user, provider=owner, report="ledger", format="csv",
                                    date_from=date(2026, 1, 1), date_to=date(2026, 1, 31), status="done",
                                    file_name="x.csv", expires_at=timezone.now() + timedelta(days=1))


MAKERS: list[tuple[re.Pattern, Callable[..., models.Model]]] = [
    (re.compile(rf"^{PREFIX}/provider/leads/\{{[^}}]+\}}"), _assignment),
    (re.compile(rf"^{PREFIX}/provider/subscriptions/\{{[^}}]+\}}"), _subscription),
    (re.compile(rf"^{PREFIX}/provider/webhook/deliveries/\{{[^}}]+\}}"), _webhook_delivery),
    (re.compile(rf"^{PREFIX}/provider/reports/exports/\{{[^}}]+\}}"), _export),
]


def _maker_for(path: str):
    for pattern, maker in MAKERS:
        if pattern.match(path):
            return maker
    pytest.fail(f"{path} takes an id but this test has no maker for its object: add one to MAKERS")


# ---- request bodies that pass validation, so the 404 comes from the ownership check ------------------

def _resolve(schema: dict, components: dict) -> dict:
    while "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[1]]
    if "anyOf" in schema:
        schema = next((s for s in schema["anyOf"] if s.get("type") != "null"), schema["anyOf"][0])
        return _resolve(schema, components)
    if "allOf" in schema and len(schema["allOf"]) == 1:
        return _resolve(schema["allOf"][0], components)
    return schema


def _example(schema: dict, components: dict):
    schema = _resolve(schema, components)
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        return {name: _example(sub, components) for name, sub in schema.get("properties", {}).items()
                if name in schema.get("required", [])}
    if kind == "array":
        return []
    if kind == "integer":
        return max(1, schema.get("minimum", 1))
    if kind == "number":
        return 1.0
    if kind == "boolean":
        return True
    if schema.get("format") == "email":
        return "someone@example.org"
    if schema.get("format") == "uri":
        return "https://example.org/hook"
    return "x" * max(1, schema.get("minLength", 1))


def _body_for(method: str, path: str, openapi: dict):
    operation = openapi["paths"][path][method.lower()]
    content = operation.get("requestBody", {}).get("content", {})
    if "application/json" not in content:
        return None
    return _example(content["application/json"]["schema"], openapi["components"]["schemas"])


def _snapshot(obj: models.Model) -> dict:
    fresh = type(obj).objects.get(pk=obj.pk)
    return model_to_dict(fresh) | {"status": getattr(fresh, "status", None)}


@pytest.fixture(scope="module")
def openapi() -> dict:
    return api.get_openapi_schema(path_prefix=PREFIX + "/")


def test_the_served_document_has_the_same_provider_operations(client, db):
    served = client.get(f"{PREFIX}/openapi.json").json()

    ops = sorted(
        (method.upper(), path) for path, methods in served["paths"].items()
        if path.startswith(f"{PREFIX}/provider/") and PARAM.search(path) for method in methods
    )

    assert ops == OPERATIONS
    assert ("GET", f"{PREFIX}/provider/leads/{{assignment_id}}") in ops
    assert ("POST", f"{PREFIX}/provider/leads/{{assignment_id}}/accept") in ops
    assert ("POST", f"{PREFIX}/provider/leads/{{assignment_id}}/reject") in ops


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_another_providers_object_is_404(client, provider_headers, other_provider, openapi, method, path):
    # given: an object of another provider, of the kind this path is about
    theirs = _maker_for(path)(other_provider)
    before = _snapshot(theirs)
    url = PARAM.sub(str(theirs.pk), path)
    body = _body_for(method, path, openapi)

    # when: I call the endpoint with its id
    kwargs = {"content_type": "application/json", "data": body} if body is not None else {}
    response = getattr(client, method.lower())(url, **kwargs, **provider_headers)

    # then: not found — as if it did not exist — and it is unchanged
    assert response.status_code == 404, (url, body, response.content)
    assert response.json()["error"]["code"] == "not_found"
    assert str(other_provider.pk) not in response.json()["error"]["message"]
    assert _snapshot(theirs) == before


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
@pytest.mark.parametrize("absurd_id", [0, 2**63, 10**30])
def test_an_id_that_cannot_exist_is_404_not_500(client, provider_headers, openapi, method, path, absurd_id):
    url = PARAM.sub(str(absurd_id), path)
    body = _body_for(method, path, openapi)

    kwargs = {"content_type": "application/json", "data": body} if body is not None else {}
    response = getattr(client, method.lower())(url, **kwargs, **provider_headers)

    assert response.status_code == 404, (url, response.content)
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.django_db
def test_another_providers_objects_are_never_listed_or_counted(client, provider_headers, other_provider):
    # given: another provider's sale (a deposit, a charge, a subscription, an assignment)
    theirs = make_assignment(provider=other_provider)

    # when
    inbox = client.get(f"{PREFIX}/provider/inbox", **provider_headers).json()
    kpis = client.get(f"{PREFIX}/provider/reports/kpis", **provider_headers).json()
    subscriptions = client.get(f"{PREFIX}/provider/subscriptions", **provider_headers).json()
    history = client.get(f"{PREFIX}/provider/billing/history", **provider_headers).json()

    # then
    assert inbox == {"items": [], "next_cursor": None}
    assert kpis["totals"]["received"] == 0 and kpis["totals"]["spend_cents"] == 0
    assert theirs.subscription_id not in {item["id"] for item in subscriptions["items"]}
    assert theirs.charge_entry_id not in {item["id"] for item in history["items"]}
    assert history["items"] == []
