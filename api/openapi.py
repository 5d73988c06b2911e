"""The OpenAPI document as a contract (issue 15): every operation lists its error statuses, with one schema.

`HotLeadAPI.get_openapi_schema` adds the SPEC §8 error responses to every operation from what the
operation is — nothing to write per endpoint, so routers added later are covered without edits:

    needs a token (auth)            401 not_authenticated / token_expired…, 403 forbidden
    has a path parameter            404 not_found (also another provider's object)
    has parameters or a body        422 validation_error (details.fields names each bad field)
    has a JSON body                 400 malformed_json, 413 payload_too_large, 415 unsupported_media_type
    changes something (POST…)       400 a business rule, 404 an object it names is unknown, 409 conflict
    public and changes something    401 its own credential (password, e-mailed token or code, signature) is wrong
    public (no token)               429 rate_limited (with Retry-After)

An operation may list more in `openapi_extra={"responses": {…}}` (ninja merges it) or name extra statuses
with `openapi_extra={"x-error-statuses": [429]}`; a status already documented is never replaced.
"""
from __future__ import annotations

from typing import Any

from ninja import NinjaAPI

ERROR_SCHEMA_NAME = "ErrorOut"

ERROR_SCHEMA: dict[str, Any] = {
    "title": ERROR_SCHEMA_NAME,
    "type": "object",
    "description": 'Every error (SPEC §8): {"error": {"code", "message", "details"}}.',
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "details"],
            "properties": {
                "code": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$",
                         "description": "Stable snake_case code, e.g. validation_error, not_found, rate_limited"},
                "message": {"type": "string", "description": "A sentence for people; may change"},
                "details": {
                    "description": "validation_error: {fields: [{field, message, type?}]}; rate_limited: "
                                   "{retry_after}; others: code-specific or {}",
                    "anyOf": [{"type": "object"}, {"type": "array"}],
                },
            },
        },
    },
}

DESCRIPTIONS = {
    400: "Bad request: malformed JSON (`malformed_json`) or a business rule refused it (code names the rule)",
    401: "Not authenticated: no, expired or revoked token (`not_authenticated`, `token_expired`…)",
    403: "Forbidden: authenticated but not allowed (`forbidden`, `email_not_verified`, `mfa_setup_required`…)",
    404: "Not found (`not_found`), also for another provider's objects",
    409: "Conflict: the current state does not allow this (`conflict`)",
    413: "The body is too large (`payload_too_large`)",
    415: "The body must be JSON: `Content-Type: application/json` (`unsupported_media_type`)",
    422: "Invalid fields (`validation_error`); details.fields lists each one by the name the caller sent",
    429: "Too many requests (`rate_limited`); see the Retry-After header",
    503: "Not available on this server: a feature it needs is not configured (`webhook_not_configured`…)",
}

_MUTATING = {"post", "put", "patch", "delete"}
_RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer", "minimum": 1}}}


def error_statuses(*, method: str, operation: dict, authenticated: bool) -> set[int]:
    """The error statuses an operation can answer, from its shape (see the module docstring)."""
    statuses: set[int] = set()
    parameters = operation.get("parameters") or []
    has_body = "requestBody" in operation
    if authenticated:
        statuses |= {401, 403}
    if any(p.get("in") == "path" for p in parameters):
        statuses.add(404)
    if parameters or has_body:
        statuses.add(422)
    if has_body:
        statuses |= {400, 413, 415}
    if method in _MUTATING:
        statuses |= {400, 404, 409}  # a rule refused it; an object it names does not exist; the state forbids it
        if not authenticated:
            statuses.add(401)  # public actions check a credential of their own: password, token, code, signature
    if not authenticated:
        statuses.add(429)
    statuses |= {int(s) for s in operation.pop("x-error-statuses", [])}
    return statuses


def error_responses_add(schema: dict) -> dict:
    """Add the shared ErrorOut responses to every operation of a generated document (in place)."""
    schema.setdefault("components", {}).setdefault("schemas", {})[ERROR_SCHEMA_NAME] = ERROR_SCHEMA
    ref = {"$ref": f"#/components/schemas/{ERROR_SCHEMA_NAME}"}
    for path_item in schema.get("paths", {}).values():
        for method, operation in path_item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            authenticated = bool(operation.get("security"))
            responses = operation["responses"]
            for status in sorted(error_statuses(method=method, operation=operation, authenticated=authenticated)):
                if str(status) in responses or status in responses:
                    continue
                response: dict[str, Any] = {"description": DESCRIPTIONS.get(status, "Error"),
                                            "content": {"application/json": {"schema": ref}}}
                if status == 429:
                    response["headers"] = _RETRY_AFTER
                responses[status] = response
    return schema


class HotLeadAPI(NinjaAPI):
    """ninja's API whose document names every error status with the one SPEC §8 error schema."""

    def get_openapi_schema(self, *, path_prefix: str | None = None, path_params: dict | None = None):
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        error_responses_add(schema)
        return schema
