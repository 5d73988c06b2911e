"""The real URLs plus the baseline of `scripts/bench intake`: a bare endpoint on the same server that validates a
JSON body and does one INSERT (no rate limit, no duplicate check, no verification code, no e-mail, no history)."""
from __future__ import annotations

import json

from django.db import connection
from django.http import JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hotlead.urls import urlpatterns as real_urlpatterns


class BareLeadIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    email: str = Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$")
    phone: str = Field(min_length=7, max_length=20)
    postal_code: str = Field(min_length=3, max_length=10)
    category: str = Field(min_length=1, max_length=64)
    description: str = Field(min_length=1, max_length=5000)
    consent: bool


@csrf_exempt
def bare_intake(request):
    try:
        lead = BareLeadIn.model_validate(json.loads(request.body))
    except (ValueError, ValidationError):
        return JsonResponse({"error": {"code": "validation_error"}}, status=422)
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO bench_bare_lead (name, email, phone, postal_code, category, description) "
                       "VALUES (%s, %s, %s, %s, %s, %s) RETURNING id",
                       [lead.name, lead.email, lead.phone, lead.postal_code, lead.category, lead.description])
        lead_id = cursor.fetchone()[0]
    return JsonResponse({"id": lead_id, "status": "stored"}, status=202)


urlpatterns = [path("bench/bare-intake", bare_intake), *real_urlpatterns]
