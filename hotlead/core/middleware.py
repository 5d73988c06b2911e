"""Request id (honour X-Request-ID, else generate; echo it) and the HTTP duration histogram."""
from __future__ import annotations

import re
import time
import uuid

from hotlead.core.request_context import request_id_var, user_id_var

_SAFE_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _SAFE_ID.match(incoming or "") else uuid.uuid4().hex
        request.request_id = request_id
        token = request_id_var.set(request_id)
        user_token = user_id_var.set(None)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
            user_id_var.reset(user_token)
        response["X-Request-ID"] = request_id
        return response


class MetricsMiddleware:
    """Observe request duration labelled by the route template, never the raw path."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from hotlead.core.metrics import HTTP_REQUEST_DURATION

        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        route = match.route if match is not None and match.route else "unmatched"
        HTTP_REQUEST_DURATION.labels(
            method=request.method, route=route, status=str(response.status_code)
        ).observe(time.perf_counter() - started)
        return response
