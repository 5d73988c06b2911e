"""RBAC on every protected operation of the API, read from the OpenAPI document itself (SPEC §8).

No token → 401; a provider token on an admin operation → 403; a staff token issued without MFA → 403;
a staff token on a provider operation → 403; a suspended provider's token → 401. Authentication runs
before the body and the path's object are looked at, so placeholder ids and an empty body suffice.
The document is read inside the tests, not at import: building it freezes the API's routers, and other test
packages mount probe routers while being collected.
"""
from __future__ import annotations

import re
import uuid

import pytest

from api.v1 import api
from hotlead.accounts.tokens import access_token_encode
from hotlead.providers.enums import ProviderStatus
from tests.factories.accounts import StaffFactory, totp_device_for
from tests.factories.providers import ProviderFactory

pytestmark = pytest.mark.django_db

PREFIX = "/api/v1"
PARAM = re.compile(r"\{([^}]+)\}")


def _operations(area: str) -> list[tuple[str, str]]:
    schema = api.get_openapi_schema(path_prefix=PREFIX + "/")
    ops = []
    for path, methods in schema["paths"].items():
        if not path.startswith(f"{PREFIX}/{area}/"):
            continue
        for method, operation in methods.items():
            params = {p["name"]: p["schema"] for p in operation.get("parameters", []) if p["in"] == "path"}

            def value(match, params=params):
                spec = params.get(match.group(1), {})
                return str(uuid.uuid4()) if spec.get("format") == "uuid" else (
                    "1" if spec.get("type") == "integer" else "some-slug")

            ops.append((method, PARAM.sub(value, path)))
    return sorted(ops)


def _call(client, method: str, path: str, token: str | None = None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    if method == "get":
        return client.get(path, **headers)
    return getattr(client, method)(path, data="{}", content_type="application/json", **headers)


def _mismatch(response, status: int, code: str | None = None) -> str | None:
    """None when the response is the SPEC §8 error body with this status (and code); else what was seen."""
    body = response.json().get("error") if response.get("Content-Type", "").startswith("application/json") else None
    seen = (response.status_code, body and body.get("code"))
    if seen[0] != status or not body or set(body) != {"code", "message", "details"} or (code and seen[1] != code):
        return f"{seen}"
    return None


def _refusals(client, operations, cases) -> list[str]:
    failures = []
    for method, path in operations:
        for label, token, status, code in cases:
            mismatch = _mismatch(_call(client, method, path, token), status, code)
            if mismatch:
                failures.append(f"{method.upper()} {path} with {label}: expected {status} {code}, got {mismatch}")
    return failures


def test_every_admin_operation_refuses_anonymous_provider_and_staff_without_mfa(client):
    # given
    operations = _operations("admin")
    assert len(operations) >= 20 and ("get", f"{PREFIX}/admin/providers") in operations
    staff = StaffFactory()
    totp_device_for(staff)
    cases = [
        ("no token", None, 401, "not_authenticated"),
        ("a provider token proved with MFA", access_token_encode(user=ProviderFactory().user, mfa=True)[0],
         403, "forbidden"),
        ("a staff token without MFA", access_token_encode(user=staff, mfa=False)[0], 403, None),
    ]
    # when / then
    assert _refusals(client, operations, cases) == []


def test_every_provider_operation_refuses_anonymous_staff_and_a_suspended_provider(client):
    # given
    operations = _operations("provider")
    assert len(operations) >= 15 and ("get", f"{PREFIX}/provider/profile") in operations
    staff = StaffFactory()
    totp_device_for(staff)
    suspended = ProviderFactory(status=ProviderStatus.SUSPENDED)
    cases = [
        ("no token", None, 401, "not_authenticated"),
        ("a staff token with MFA", access_token_encode(user=staff, mfa=True)[0], 403, "forbidden"),
        ("a suspended provider's token", access_token_encode(user=suspended.user, mfa=False)[0],
         401, "account_suspended"),
    ]
    # when / then
    assert _refusals(client, operations, cases) == []
