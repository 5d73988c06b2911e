"""The auth and provider endpoints are documented in the OpenAPI schema with their own schemas."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_openapi_lists_the_auth_provider_and_admin_provider_paths(client):
    schema = client.get("/api/v1/openapi.json").json()
    paths = schema["paths"]
    for path in ("/api/v1/auth/register", "/api/v1/auth/login", "/api/v1/auth/refresh", "/api/v1/auth/logout",
                 "/api/v1/auth/forgot-password", "/api/v1/auth/reset-password", "/api/v1/provider/profile",
                 "/api/v1/provider/service-areas", "/api/v1/provider/notification-preferences",
                 "/api/v1/provider/mfa/setup", "/api/v1/provider/mfa/confirm", "/api/v1/admin/providers",
                 "/api/v1/admin/providers/{provider_id}", "/api/v1/admin/providers/{provider_id}/suspend"):
        assert path in paths, path
    login_in = schema["components"]["schemas"]["LoginIn"]
    assert set(login_in["properties"]) == {"email", "password", "otp"}
    assert login_in.get("additionalProperties") is False
