"""The public lead form at `/` (SPEC §1): a page that walks the submitter through submit → code → confirm.

The page talks to the public JSON API with fetch(); this view only renders the shell with the
categories and the consent text whose version the API records.
"""
from django.conf import settings
from django.shortcuts import render
from django.views.decorators.http import require_GET

from hotlead.leads.enums import Timeline
from hotlead.leads.selectors import categories_active
from hotlead.leads.validation import DESCRIPTION_MAX, DESCRIPTION_MIN


@require_GET
def lead_form(request):
    return render(request, "leads/form.html", {
        "categories": list(categories_active().values("slug", "name")),
        "timelines": Timeline.choices,
        "consent_version": settings.HOTLEAD["CONSENT_TEXT_VERSION"],
        "code_ttl_minutes": settings.HOTLEAD["VERIFICATION_CODE_TTL_MINUTES"],
        "description_max": DESCRIPTION_MAX,
        "description_min": DESCRIPTION_MIN,
    })
