"""One mapping from every error to the SPEC §8 body: {"error": {code, message, details}}.

- `ApplicationError` (raised by services) → its own status, code and details.
- ninja's request validation → 422 `validation_error`, details {"fields": [{"field", "message", "type"}]}.
- a body that is not JSON → 400 `malformed_json`; a body in another media type → 415 `unsupported_media_type`.
- a body over DATA_UPLOAD_MAX_MEMORY_SIZE → 413; other requests Django deems suspicious (too many fields) → 400.
- a missing or bad token → 401 (with `WWW-Authenticate: Bearer`); a wrong role → 403; 404; 405 (with `Allow`);
  429 with `Retry-After`.
- anything unexpected → 500 `internal_error`: logged with its traceback and the request id, and the
  body carries only the request id, never the traceback, whatever DEBUG says.
`ApiErrorBodyMiddleware` gives the same body to errors Django answers itself under /api/v1/
(unknown path, wrong method, CSRF, a 500 outside the API's handlers).
"""
from __future__ import annotations

import json
import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, Throttled
from ninja.errors import ValidationError as NinjaValidationError
from ninja.parser import Parser

from hotlead.core.exceptions import (
    ApplicationError,
    Conflict,
    Forbidden,
    NotAuthenticated,
    NotFound,
    RateLimited,
    ValidationFailed,
)
from hotlead.core.request_context import current_request_id
from hotlead.leads.validation import BUDGET_MESSAGE, postal_code_format_message

logger = logging.getLogger("hotlead.api")

API_PREFIX = "/api/v1/"


# The codes only the edge answers with (Django or ninja refused the request before any service ran)
class MalformedJsonBody(ApplicationError):
    code = "malformed_json"
    default_message = "The request body is not valid JSON."


class MethodNotAllowed(ApplicationError):
    code = "method_not_allowed"
    http_status = 405
    default_message = "This method is not allowed on this path."


class PayloadTooLarge(ApplicationError):
    code = "payload_too_large"
    http_status = 413
    default_message = "The request body is too large."


class UnsupportedMediaTypeError(ApplicationError):
    code = "unsupported_media_type"
    http_status = 415
    default_message = "The request body must be JSON (Content-Type: application/json)."


class InternalError(ApplicationError):
    code = "internal_error"
    http_status = 500
    default_message = "Something went wrong on our side. The request id identifies it."


class UnlistedStatusError(ApplicationError):
    """A status below 500 that no code names (Django answered 410, say); 5xx ones are `internal_error`."""

    code = "error"
    default_message = "The request failed."


# The code and message of an error answered by status alone (a 404 from Django, ninja's 401…)
STATUS_ERRORS: dict[int, type[ApplicationError]] = {
    cls.http_status: cls
    for cls in (ApplicationError, NotAuthenticated, Forbidden, NotFound, MethodNotAllowed, Conflict, PayloadTooLarge,
                UnsupportedMediaTypeError, ValidationFailed, RateLimited, InternalError)
}


def error_body(code: str, message: str, details=None) -> dict:
    return {"error": {"code": code, "message": message, "details": details if details is not None else {}}}


def error_response(status: int, message: str | None = None, details=None, headers: dict | None = None) -> JsonResponse:
    """The SPEC §8 body for an error answered by its status: the code is that of the status's class."""
    known = STATUS_ERRORS.get(status)
    code = known.code if known else (UnlistedStatusError.code if status < 500 else InternalError.code)
    default_message = known.default_message if known else UnlistedStatusError.default_message
    if status >= 500 and details is None:
        details = {"request_id": current_request_id() or ""}
    response = JsonResponse(error_body(code, message or default_message, details), status=status)
    for key, value in (headers or {}).items():
        response[key] = value
    if status == 401 and "WWW-Authenticate" not in response:
        response["WWW-Authenticate"] = "Bearer"
    return response


# --- the request body: JSON only ------------------------------------------------------------------

class UnsupportedMediaType(Exception):
    def __init__(self, content_type: str) -> None:
        self.content_type = content_type
        super().__init__(content_type)


def _is_json(content_type: str) -> bool:
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    return media_type == "application/json" or (media_type.startswith("application/") and media_type.endswith("+json"))


_FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


NUL_MESSAGE = "Must not contain the NUL character."


def _nul_locations(value, loc: tuple = ()):
    """Where the NUL character occurs in a parsed JSON value (PostgreSQL text cannot store it)."""
    if isinstance(value, str):
        if "\x00" in value:
            yield loc
    elif isinstance(value, dict):
        for key, item in value.items():
            if "\x00" in key:
                yield (*loc, key)
            else:
                yield from _nul_locations(item, (*loc, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _nul_locations(item, (*loc, index))


def _nul_error(locations) -> NinjaValidationError:
    return NinjaValidationError([{"loc": loc, "msg": NUL_MESSAGE, "type": "null_character"} for loc in locations])


MAX_JSON_DEPTH = 64


class MalformedJson(ValueError):
    """The body is not JSON we accept: not UTF-8 JSON, or nested deeper than MAX_JSON_DEPTH."""


def _depth_exceeds(value, limit: int) -> bool:
    stack = [(value, 1)]
    while stack:  # iterative: a deep document must not exhaust Python's recursion limit here either
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > limit:
                return True
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return False


def json_parse(raw: bytes):
    """json.loads for request bodies: MalformedJson (a 400 malformed_json) instead of a RecursionError."""
    try:
        data = json.loads(raw)
    except RecursionError:
        raise MalformedJson(f"The JSON is nested deeper than {MAX_JSON_DEPTH} levels.") from None
    except ValueError as exc:  # json.JSONDecodeError, UnicodeDecodeError
        raise MalformedJson("The request body is not valid JSON.") from exc
    if _depth_exceeds(data, MAX_JSON_DEPTH):
        raise MalformedJson(f"The JSON is nested deeper than {MAX_JSON_DEPTH} levels.")
    return data


class JsonOnlyParser(Parser):
    """ninja calls this for operations that take a JSON body, when the request has one.

    A text value with the NUL character is refused here (422) for the body and the query string alike:
    PostgreSQL cannot store or even compare it, so it would otherwise surface as a 500.
    """

    def parse_body(self, request: HttpRequest):
        if not _is_json(request.content_type):
            if request.content_type in _FORM_TYPES and not request.POST and not request.FILES:
                return None  # a form with no fields carries nothing: the same as no body
            raise UnsupportedMediaType(request.content_type or "")
        data = json_parse(request.body)
        if locations := list(_nul_locations(data, ("body",))):
            raise _nul_error(locations)  # ninja wraps it in HttpError(400); _http_error unwraps it
        return data

    def parse_querydict(self, data, list_fields, request: HttpRequest):
        locations = [("query", key) for key, values in data.lists()
                     if "\x00" in key or any("\x00" in str(v) for v in values)]
        if locations:
            raise _nul_error(locations)
        return super().parse_querydict(data, list_fields, request)


# --- validation details ---------------------------------------------------------------------------

def _field_name(loc) -> str:
    loc = list(loc)
    source = loc[0] if loc and loc[0] in ("body", "query", "path", "header", "cookie", "form") else None
    parts = [str(p) for p in (loc[1:] if source else loc)]
    # ninja puts the payload parameter name first ("payload"): drop it for readable names. Query[Schema]
    # parameters arrive flat (?date_to=…): name the field the caller sent, not the schema's parameter ("filters")
    wrapped_body = len(parts) > 1 and parts[0] in ("payload", "data", "body_params")
    flat_params = source in ("query", "path", "header", "cookie") and len(loc) > 2 and isinstance(loc[2], str)
    if wrapped_body or flat_params:
        parts = parts[1:]
    return ".".join(parts) or "body"


def _postal_code_message() -> str:
    return postal_code_format_message()  # the service's own words: a US ZIP code, or any postal code


def _budget_message() -> str:
    return BUDGET_MESSAGE  # dollars, as the service says it, never the limit in cents


# Messages people read (the public form shows them under each field) for the schema's own refusals; a regular
# expression is never shown. A callable gives a message that depends on the settings.
FRIENDLY_MESSAGES = {
    "name": "Enter your name.",
    "email": "Enter a valid e-mail address.",
    "phone": "Enter a phone number.",
    "postal_code": _postal_code_message,
    "category": "Choose a category.",
    "description": "Describe what you need.",
    "consent": "Your consent is required to pass your request to providers.",
    "code": "Enter the 6-digit code from the e-mail.",
    "source": "Use at most 64 letters, digits or . _ : -",
    "slug": "Use lower-case letters, digits and single dashes.",
}
_SHAPE_ERRORS = {"string_pattern_mismatch", "string_too_short", "literal_error"}
# A number outside its range, in the words of the field (the lead's budget speaks dollars, not cents)
RANGE_MESSAGES = {"budget_cents": _budget_message}
_RANGE_ERRORS = {"greater_than", "greater_than_equal", "less_than", "less_than_equal"}


def _message(err: dict, field: str) -> str:
    message = err.get("msg", "Invalid value")
    friendly = None
    if err.get("type") in _SHAPE_ERRORS:
        friendly = FRIENDLY_MESSAGES.get(field.rsplit(".", 1)[-1])
    elif err.get("type") in _RANGE_ERRORS:
        friendly = RANGE_MESSAGES.get(field)
    if friendly:
        return friendly() if callable(friendly) else friendly
    if err.get("type") == "string_pattern_mismatch":
        return "This value does not have the expected format (see the API document)."
    if message.startswith("Value error, "):
        message = message[len("Value error, "):]
    return message


def validation_details(errors: list[dict]) -> dict:
    fields = []
    for err in errors:
        # a rule across fields (a model validator) names its field in ctx["field"]
        ctx_field = (err.get("ctx") or {}).get("field")
        field = ctx_field if isinstance(ctx_field, str) else _field_name(err.get("loc", ()))
        fields.append({"field": field, "message": _message(err, field), "type": err.get("type", "")})
    return {"fields": fields}


def application_error_response(exc: ApplicationError) -> JsonResponse:
    response = JsonResponse(exc.as_body(), status=exc.http_status)
    if isinstance(exc, RateLimited):
        response["Retry-After"] = str(exc.retry_after)
    if isinstance(exc, NotAuthenticated):
        response["WWW-Authenticate"] = "Bearer"
    return response


def install(api: NinjaAPI) -> None:
    """Register the parser and the handlers on the one NinjaAPI."""
    api.parser = JsonOnlyParser()

    @api.exception_handler(ApplicationError)
    def _application_error(request: HttpRequest, exc: ApplicationError):
        return application_error_response(exc)

    @api.exception_handler(NinjaValidationError)
    def _validation_error(request: HttpRequest, exc: NinjaValidationError):
        return error_response(422, details=validation_details(exc.errors))

    @api.exception_handler(DjangoValidationError)
    def _django_validation_error(request: HttpRequest, exc: DjangoValidationError):
        if hasattr(exc, "error_dict"):
            fields = [{"field": f, "message": str(m)} for f, msgs in exc.message_dict.items() for m in msgs]
        else:
            fields = [{"field": "body", "message": str(m)} for m in exc.messages]
        return error_response(422, details={"fields": fields})

    @api.exception_handler(AuthenticationError)
    def _authentication_error(request: HttpRequest, exc: AuthenticationError):
        return error_response(401)

    @api.exception_handler(AuthorizationError)
    def _authorization_error(request: HttpRequest, exc: AuthorizationError):
        return error_response(403)

    @api.exception_handler(Throttled)
    def _throttled(request: HttpRequest, exc: Throttled):
        retry_after = max(1, int(exc.wait or 1))
        return error_response(429, details={"retry_after": retry_after}, headers={"Retry-After": str(retry_after)})

    @api.exception_handler(HttpError)
    def _http_error(request: HttpRequest, exc: HttpError):
        cause = exc.__cause__
        if isinstance(cause, NinjaValidationError):
            return error_response(422, details=validation_details(cause.errors))
        if isinstance(cause, UnsupportedMediaType):
            return error_response(415, details={"content_type": cause.content_type[:100],
                                                "expected": "application/json"})
        if isinstance(cause, MalformedJson):
            return application_error_response(MalformedJsonBody(str(cause)))
        if isinstance(cause, ValueError | RecursionError):
            return application_error_response(MalformedJsonBody())
        status = exc.status_code
        if status >= 500:
            return _unexpected(request, exc)
        return error_response(status, message=str(exc) or None)

    @api.exception_handler(RequestDataTooBig)
    def _too_big(request: HttpRequest, exc: RequestDataTooBig):
        return error_response(413, details={"max_bytes": settings.DATA_UPLOAD_MAX_MEMORY_SIZE})

    @api.exception_handler(SuspiciousOperation)
    def _suspicious(request: HttpRequest, exc: SuspiciousOperation):
        # e.g. more query or form fields than DATA_UPLOAD_MAX_NUMBER_FIELDS: the client's fault, not ours
        logger.warning("suspicious request", extra={"route": _route(request), "error": type(exc).__name__})
        return error_response(400)

    @api.exception_handler(Http404)
    def _not_found(request: HttpRequest, exc: Http404):
        return error_response(404)

    @api.exception_handler(PermissionDenied)
    def _permission_denied(request: HttpRequest, exc: PermissionDenied):
        return error_response(403)

    @api.exception_handler(Exception)
    def _unexpected(request: HttpRequest, exc: Exception):
        # The traceback goes to the log (masked, with the request id), never into the response.
        logger.error("unhandled API error", exc_info=exc,
                     extra={"method": request.method, "route": _route(request), "error": type(exc).__name__})
        return error_response(500)


def _route(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    return match.route if match is not None else "unmatched"


class ApiErrorBodyMiddleware:
    """Under /api/v1/, turn any error Django answered itself (unknown path, 405, CSRF, 500…) into the SPEC body."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith(API_PREFIX) and "\x00" in request.path:
            return error_response(404, message="No such endpoint.")  # no id or slug contains NUL
        response = self.get_response(request)
        if not request.path.startswith(API_PREFIX) or response.status_code < 400:
            return response
        if response.get("Content-Type", "").startswith("application/json"):
            try:
                body = json.loads(response.content or b"{}")
            except (ValueError, AttributeError):
                body = None
            if isinstance(body, dict) and isinstance(body.get("error"), dict):
                return response
        replacement = error_response(response.status_code)
        for header in ("Allow", "Retry-After", "WWW-Authenticate", "X-Request-ID"):
            if header in response:
                replacement[header] = response[header]
        return replacement


@csrf_exempt  # an unknown path is a 404 whatever the method: the CSRF check must not answer 403 first
def api_not_found(request: HttpRequest, path: str = "") -> HttpResponse:
    """Catch-all for unknown paths under /api/v1/."""
    return error_response(404, message="No such endpoint.")
