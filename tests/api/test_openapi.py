"""The API describes itself: valid OpenAPI 3 at /api/v1/openapi.json, Swagger UI from local files."""
import re

import pytest
from django.contrib.staticfiles import finders
from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

pytestmark = pytest.mark.django_db


def test_openapi_json_is_valid_openapi_3(client):
    # when
    response = client.get("/api/v1/openapi.json")
    # then
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    validate(schema)  # raises OpenAPIValidationError when the document is not valid
    assert "/api/v1/admin/queues/dlq/{dead_letter_id}/retry" in schema["paths"]


def test_the_validator_does_catch_an_invalid_document(client):
    # given: the real document with one required part removed
    schema = client.get("/api/v1/openapi.json").json()
    del schema["info"]
    # then
    with pytest.raises(OpenAPIValidationError):
        validate(schema)


def test_admin_operations_declare_bearer_auth(client):
    schema = client.get("/api/v1/openapi.json").json()
    operation = schema["paths"]["/api/v1/admin/queues"]["get"]
    assert operation["security"] and all(len(requirement) == 1 for requirement in operation["security"])
    [scheme_name] = operation["security"][0]
    assert schema["components"]["securitySchemes"][scheme_name] == {"type": "http", "scheme": "bearer"}


def test_docs_are_served_from_local_files_without_a_cdn(client):
    # when
    response = client.get("/api/v1/docs")
    # then
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html.lower()
    external = re.findall(r"""(?:src|href)\s*=\s*["']((?:https?:)?//[^"']+)""", html)
    assert external == []
    assert not re.search(r"https?://(?!localhost|127\.0\.0\.1|testserver)", html)
    # and every script and stylesheet it names is one of our static files
    local = re.findall(r"""(?:src|href)\s*=\s*["']/static/([^"'?]+)""", html)
    assert any(name.endswith(".js") for name in local) and any(name.endswith(".css") for name in local)
    for name in local:
        assert finders.find(name), name
