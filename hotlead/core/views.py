"""Operations endpoints: liveness, readiness, metrics (outside /api/v1; for probes and Prometheus)."""
from __future__ import annotations

from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from hotlead.core.health import readiness_checks
from hotlead.core.metrics import render_latest


@never_cache
@require_GET
def health_live(request):
    """The process answers: nothing else is checked (a restart would not fix a dependency)."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def health_ready(request):
    """200 when every dependency answers; 503 naming the ones that do not."""
    checks = readiness_checks()
    failed = [name for name, result in checks.items() if not result["ok"]]
    body = {"status": "ok" if not failed else "unavailable", "failed": failed, "checks": checks}
    return JsonResponse(body, status=200 if not failed else 503)


@never_cache
@require_GET
def metrics(request):
    payload, content_type = render_latest()
    return HttpResponse(payload, content_type=content_type)
