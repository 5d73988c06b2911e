"""The review queue: the leads waiting for review, oldest first, each with what it would sell to right now,
approved or rejected from the row (or in bulk), with keyboard shortcuts (static/console/review_queue.js).

Every POST is answered with a redirect back to the queue (POST-redirect-GET), so a reload never re-posts
and never shows a 405. Decisions go through `hotlead.leads.services`.
"""
from __future__ import annotations

from datetime import datetime

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from hotlead.core.exceptions import ApplicationError, ValidationFailed
from hotlead.core.money import money_format
from hotlead.distribution.selectors.plain import leads_predicted_outcomes
from hotlead.leads import selectors
from hotlead.leads.enums import RejectReason
from hotlead.leads.models import Lead
from hotlead.leads.services import lifecycle

QUEUE_PAGE = 20
TEMPLATE = "admin_ext/review_queue.html"


class _LeadIdsField(forms.Field):
    """The selected lead ids (one or many hidden inputs named `ids`)."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value):
        ids = []
        for item in value or []:
            try:
                pk = int(item)
            except (TypeError, ValueError):
                raise forms.ValidationError("The selection is not valid: choose the rows again.") from None
            if not 0 < pk < 2**63:
                raise forms.ValidationError("The selection is not valid: choose the rows again.")
            ids.append(pk)
        return ids

    def validate(self, value):
        if not value:
            raise forms.ValidationError("Select at least one lead.")


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", "Approve"), ("reject", "Reject")])
    ids = _LeadIdsField()
    reason = forms.ChoiceField(choices=[("", "—"), *RejectReason.choices], required=False)
    note = forms.CharField(required=False, max_length=lifecycle.REVIEW_NOTE_MAX)

    def clean(self):
        data = super().clean()
        if data.get("decision") == "reject" and not data.get("reason"):
            self.add_error("reason", "Choose a reason to reject.")
        return data


def age_text(created_at: datetime, now: datetime) -> str:
    seconds = max(int((now - created_at).total_seconds()), 0)
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if days:
        return f"{days} d {hours % 24} h"
    if hours:
        return f"{hours} h {minutes % 60} min"
    return f"{minutes} min"


def _rows(leads: list[Lead], now: datetime) -> list[dict]:
    predictions = leads_predicted_outcomes(leads=leads, now=now)
    return [{
        "lead": lead,
        "short_id": str(lead.public_id)[:8],
        "age": age_text(lead.created_at, now),
        "budget": money_format(lead.budget_cents),
        "prediction": predictions[lead.pk],
        "url": reverse("admin:leads_lead_change", args=[lead.pk]),
    } for lead in leads]


def _decide(request: HttpRequest, form: DecisionForm) -> None:
    data = form.cleaned_data
    approve = data["decision"] == "approve"
    done, refused = [], []
    for lead in selectors.review_queue_leads_by_ids(ids=data["ids"]):
        short = str(lead.public_id)[:8]
        try:
            if approve:
                lifecycle.lead_approve(lead_id=lead.pk, actor=request.user)
            else:
                lifecycle.lead_reject(lead_id=lead.pk, actor=request.user, reason=data["reason"],
                                     note=data.get("note") or "")
        except ApplicationError as exc:
            refused.append(f"{short}: {exc.message}")
        else:
            done.append(short)
    if done:
        verb = "Approved" if approve else f"Rejected ({RejectReason(data['reason']).label.lower()})"
        messages.success(request, f"{verb} {len(done)} lead{'s' if len(done) != 1 else ''}: {', '.join(done)}.")
    for line in refused:
        messages.error(request, f"Not changed — {line}")
    if not done and not refused:
        messages.warning(request, "Those leads are no longer waiting for review.")


def review_queue_view(model_admin, request: HttpRequest) -> HttpResponse:
    queue_url = reverse("admin:leads_lead_review_queue")
    if request.method == "POST":
        form = DecisionForm(request.POST)
        if form.is_valid():
            _decide(request, form)
        else:
            for field, errors in form.errors.items():
                for error in errors:
                    messages.error(request, "Choose Approve or Reject." if field == "decision" else error)
        after = request.POST.get("after") or ""
        return HttpResponseRedirect(f"{queue_url}?after={after}" if after else queue_url)  # PRG
    now = timezone.now()
    after = request.GET.get("after") or ""
    try:
        leads, next_cursor = selectors.review_queue_page(cursor=after, limit=QUEUE_PAGE)
    except ValidationFailed:  # an unreadable cursor starts again at the first page
        after = ""
        leads, next_cursor = selectors.review_queue_page(cursor=after, limit=QUEUE_PAGE)
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": "Review queue",
        "rows": _rows(leads, now),
        "waiting": selectors.review_queue_count(),
        "next_url": f"{queue_url}?after={next_cursor}" if next_cursor else None,
        "first_url": queue_url if after else None,
        "after": request.GET.get("after") or "",
        "reasons": RejectReason.choices,
        "all_leads_url": reverse("admin:leads_lead_changelist"),
    }
    request.current_app = model_admin.admin_site.name
    return TemplateResponse(request, TEMPLATE, context)
