"""Request id (honour a safe X-Request-ID, else generate; echo it), the request's Origin (client address, user
agent, request id) for the domain, user id for logs, HTTP metrics, and a guard against the NUL character in the
URL."""
from __future__ import annotations

import ipaddress
import logging
import re
import time
import uuid

from django.conf import settings
from django.http import HttpRequest, HttpResponseBadRequest

from hotlead.core.metrics import HTTP_REQUEST_DURATION
from hotlead.core.origin import Origin, origin_bound
from hotlead.core.request_context import request_id_var, user_id_var

access_logger = logging.getLogger("hotlead.http")

# Letters, digits and . _ : - only, at most 128: anything else (spaces, quotes, newlines that could
# forge log lines or headers) is replaced by a generated id.
_SAFE_ID = re.compile(r"[A-Za-z0-9._:\-]{1,128}")
_QUIET_PREFIXES = ("/health/", "/metrics", "/static/")
_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


def request_id_from(value: str | None) -> str:
    return value if value and _SAFE_ID.fullmatch(value) else uuid.uuid4().hex


def client_ip(request: HttpRequest) -> str:
    """The client's address. Behind HOTLEAD_PROXY_COUNT proxies it is the entry that many places from the
    right of X-Forwarded-For (the one our own nearest proxy appended); entries further left are whatever
    the client sent and are never trusted. Without proxies, or without a usable entry, REMOTE_ADDR."""
    remote = request.META.get("REMOTE_ADDR", "") or "unknown"
    hops = getattr(settings, "HOTLEAD_PROXY_COUNT", 0)
    if hops <= 0:
        return remote
    entries = [entry.strip() for entry in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if entry.strip()]
    if len(entries) < hops:
        return remote
    try:
        return str(ipaddress.ip_address(entries[-hops]))
    except ValueError:
        return remote


def origin_of(request: HttpRequest, *, request_id: str = "") -> Origin:
    """The request facts the domain may know (audit, per-address rate limits), read once at the edge."""
    return Origin(
        client_ip=client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
        request_id=request_id or getattr(request, "request_id", "") or "",
    )


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = request_id_from(request.headers.get("X-Request-ID"))
        request.request_id = request_id
        token = request_id_var.set(request_id)
        user_token = user_id_var.set(None)
        try:
            with origin_bound(origin_of(request, request_id=request_id)):
                response = self.get_response(request)
        finally:
            request_id_var.reset(token)
            user_id_var.reset(user_token)
        response["X-Request-ID"] = request_id
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        # Runs after AuthenticationMiddleware: a console (session) user is known here. API tokens
        # are checked later, by the API's auth, which sets the user id itself.
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            user_id_var.set(user.pk)
        return None


class MetricsMiddleware:
    """Observe request duration labelled by the route template, never the raw path; log one line."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        elapsed = time.perf_counter() - started
        route = route_template(request)
        method = request.method if request.method in _METHODS else "other"
        HTTP_REQUEST_DURATION.labels(method=method, route=route, status=str(response.status_code)).observe(
            elapsed
        )
        if not request.path.startswith(_QUIET_PREFIXES):
            access_logger.info("request", extra={"method": method, "route": route,
                                                 "status": response.status_code,
                                                 "duration_ms": round(elapsed * 1000, 1)})
        return response


def route_template(request) -> str:
    """`api/v1/provider/leads/<assignment_id>`, never the id itself (label cardinality stays bounded)."""
    match = getattr(request, "resolver_match", None)
    if match is None or not match.route:
        return "unmatched"
    return match.route


class NulCharacterMiddleware:
    """A NUL character in the path or the query string is a 400, for every page.

    PostgreSQL cannot store or even compare text holding NUL, so a console filter such as
    `?status=%00` would otherwise end in a 500. Forms already refuse it field by field (Django's
    ProhibitNullCharactersValidator). The API answers these requests itself, naming the field in the
    SPEC body (api/errors.py), so it is left alone here.
    """

    API_PREFIX = "/api/"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith(self.API_PREFIX) and (
            "\x00" in request.path
            or any("\x00" in key or any("\x00" in v for v in values) for key, values in request.GET.lists())
        ):
            return HttpResponseBadRequest("The address contains a NUL character.", content_type="text/plain")
        return self.get_response(request)
