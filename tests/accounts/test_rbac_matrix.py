"""RBAC on every protected operation of the API, read from the OpenAPI document itself (SPEC §8).

No token → 401; a provider token on an admin operation → 403; a staff token issued without MFA → 403;
a staff token on a provider operation → 403; a suspended provider's token → 401. Authentication runs
before the body and the path's object are looked at, so placeholder ids and an empty body suffice.
"""
from __future__ import annotations

import re
import uuid

import pytest

from api import api
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


ADMIN = _operations("admin")
PROVIDER = _operations("provider")


def _call(client, method: str, path: str, token: str | None = None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    if method == "get":
        return client.get(path, **headers)
    return getattr(client, method)(path, data="{}", content_type="application/json", **headers)


def _assert_error(response, status: int, code: str | None = None) -> None:
    assert response.status_code == status, (response.request["PATH_INFO"], response.content)
    body = response.json()["error"]
    assert set(body) == {"code", "message", "details"}
    if code:
        assert body["code"] == code


def test_the_matrix_covers_the_admin_and_provider_apis():
    assert len(ADMIN) >= 20 and len(PROVIDER) >= 15
    assert ("get", f"{PREFIX}/admin/providers") in ADMIN and ("get", f"{PREFIX}/provider/profile") in PROVIDER


@pytest.mark.parametrize(("method", "path"), ADMIN, ids=[f"{m} {p}" for m, p in ADMIN])
def test_admin_operations_refuse_anonymous_provider_and_staff_without_mfa(client, method, path):
    provider = ProviderFactory()
    staff = StaffFactory()
    totp_device_for(staff)
    # no token
    _assert_error(_call(client, method, path), 401, "not_authenticated")
    # a provider's token, even one proved with MFA
    token, _ = access_token_encode(user=provider.user, mfa=True)
    _assert_error(_call(client, method, path, token), 403, "forbidden")
    # a staff token issued without the second factor
    token, _ = access_token_encode(user=staff, mfa=False)
    _assert_error(_call(client, method, path, token), 403)


@pytest.mark.parametrize(("method", "path"), PROVIDER, ids=[f"{m} {p}" for m, p in PROVIDER])
def test_provider_operations_refuse_anonymous_staff_and_suspended(client, method, path):
    staff = StaffFactory()
    totp_device_for(staff)
    suspended = ProviderFactory(status=ProviderStatus.SUSPENDED)
    # no token
    _assert_error(_call(client, method, path), 401, "not_authenticated")
    # a staff token, even with MFA
    token, _ = access_token_encode(user=staff, mfa=True)
    _assert_error(_call(client, method, path, token), 403, "forbidden")
    # a suspended provider's token
    token, _ = access_token_encode(user=suspended.user, mfa=False)
    _assert_error(_call(client, method, path, token), 401, "account_suspended")
