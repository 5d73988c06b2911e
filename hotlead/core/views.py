"""Operations endpoints: liveness, readiness, metrics."""
from __future__ import annotations

from django.http import HttpResponse, JsonResponse
from django.views.decorators.http import require_GET

from hotlead.core.health import readiness_checks
from hotlead.core.metrics import render_latest


@require_GET
def health_live(request):
    return JsonResponse({"status": "ok"})


@require_GET
def health_ready(request):
    checks = readiness_checks()
    failed = [name for name, result in checks.items() if not result["ok"]]
    body = {"status": "ok" if not failed else "unavailable", "failed": failed, "checks": checks}
    return JsonResponse(body, status=200 if not failed else 503)


@require_GET
def metrics(request):
    payload, content_type = render_latest()
    return HttpResponse(payload, content_type=content_type)
