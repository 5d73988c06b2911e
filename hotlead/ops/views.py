"""Operations endpoints: liveness, readiness, the worker's heartbeat, metrics (outside /api/v1; for probes)."""
from __future__ import annotations

import hmac
import ipaddress

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from hotlead.core.health import readiness_checks
from hotlead.core.metrics import render_latest
from hotlead.core.middleware import client_ip
from hotlead.ops.selectors import worker_check


@never_cache
@require_GET
def health_live(request):
    """The process answers: nothing else is checked (a restart would not fix a dependency)."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def health_ready(request):
    """For load balancers: 200 when this process can serve (database, migrations, cache); 503 naming what fails.

    The job worker's state is reported (`worker`) but never makes this 503: see hotlead/core/health.py."""
    checks = readiness_checks()
    failed = [name for name, result in checks.items() if not result["ok"]]
    body = {"status": "ok" if not failed else "unavailable", "failed": failed, "checks": checks}
    body["worker"] = worker_check() if checks["database"]["ok"] else {"ok": False, "error": "DatabaseUnavailable"}
    return JsonResponse(body, status=200 if not failed else 503)


def metrics_allowed(request) -> bool:
    """A bearer token equal to HOTLEAD_METRICS_TOKEN, or a client address in HOTLEAD_METRICS_ALLOWED_IPS."""
    token = settings.HOTLEAD_METRICS_TOKEN
    scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
    if token and scheme.lower() == "bearer" and hmac.compare_digest(presented.strip().encode(), token.encode()):
        return True
    try:
        address = ipaddress.ip_address(client_ip(request))
    except ValueError:
        return False
    for entry in settings.HOTLEAD_METRICS_ALLOWED_IPS:
        try:
            if address in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


@never_cache
@require_GET
def health_worker(request):
    """For the job workers' monitoring: 200 when a worker's heartbeat is fresh, else 503 with a hint."""
    check = worker_check()
    return JsonResponse({"status": "ok" if check["ok"] else "unavailable", "worker": check},
                        status=200 if check["ok"] else 503)


@never_cache
@require_GET
def metrics(request):
    """Prometheus text; money and volumes are not public (issue 15)."""
    if not metrics_allowed(request):
        response = HttpResponse("A metrics token or an allowed address is required.\n",
                                status=403 if request.headers.get("Authorization") else 401,
                                content_type="text/plain")
        if response.status_code == 401:
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    payload, content_type = render_latest()
    return HttpResponse(payload, content_type=content_type)
