"""Operations endpoints: liveness, readiness, metrics (outside /api/v1; for probes and Prometheus)."""
from __future__ import annotations

from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from hotlead.core.health import readiness_checks, worker_check
from hotlead.core.metrics import render_latest


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
    payload, content_type = render_latest()
    return HttpResponse(payload, content_type=content_type)
