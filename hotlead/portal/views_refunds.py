"""Portal pages of bad-lead reports: the report form (with the rules and the provider's return rate) and the
report's page (what was decided, and why). Thin: the service decides, the page explains."""
from __future__ import annotations

from django import forms
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from hotlead.core.exceptions import ApplicationError, NotFound
from hotlead.distribution.enums import AssignmentStatus
from hotlead.portal.decorators import portal_login_required
from hotlead.portal.forms import form_errors_apply
from hotlead.refunds import selectors
from hotlead.refunds.enums import AutoRule, BadLeadReason
from hotlead.refunds.models import BadLeadReport
from hotlead.refunds.services import DETAILS_MAX_LENGTH, report_create


class BadLeadReportForm(forms.Form):
    reason = forms.ChoiceField(choices=BadLeadReason.choices, widget=forms.RadioSelect,
                               label="What is wrong with this lead?")
    details = forms.CharField(
        required=False, max_length=DETAILS_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 5}),
        help_text="What happened when you contacted the submitter? Required for “Other”.",
    )


def _assignment_or_404(request, assignment_id: int):
    try:
        return selectors.provider_assignment_get(provider_id=request.provider.pk, assignment_id=assignment_id)
    except NotFound:
        raise Http404("No such lead in your inbox.") from None


def _why_not_reportable(assignment, now) -> str:
    if assignment.status == AssignmentStatus.REFUNDED:
        return "This lead is already refunded."
    if assignment.status == AssignmentStatus.REJECTED:
        return "You rejected this lead; a rejected lead cannot be reported."
    if not selectors.report_window_open(assigned_at=assignment.assigned_at, now=now):
        return f"Bad leads can be reported within {selectors.report_window_days()} days of delivery."
    return ""


@portal_login_required
@require_http_methods(["GET", "POST"])
def lead_report(request, assignment_id: int):
    assignment = _assignment_or_404(request, assignment_id)
    existing = BadLeadReport.objects.filter(assignment_id=assignment.pk).values_list("pk", flat=True).first()
    if existing:
        return redirect("portal:report_sent", report_id=existing)
    now = timezone.now()
    form = BadLeadReportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            report = report_create(provider=request.provider, assignment_id=assignment.pk,
                                   reason=form.cleaned_data["reason"], details=form.cleaned_data["details"])
        except ApplicationError as exc:
            form_errors_apply(form, exc)
        else:
            return redirect("portal:report_sent", report_id=report.pk)
    enabled = selectors.auto_rules_enabled()
    context = {
        "assignment": assignment,
        "form": form,
        "blocked": _why_not_reportable(assignment, now),
        "window_closes_at": selectors.report_window_closes_at(assigned_at=assignment.assigned_at),
        "rules": [{"label": rule.label, "enabled": enabled[rule.value]} for rule in AutoRule],
        "rate": selectors.return_rate_for_provider(provider_id=request.provider.pk),
    }
    return render(request, "portal/lead_report.html", context)


@portal_login_required
def report_sent(request, report_id: int):
    try:
        report = selectors.provider_report_get(provider_id=request.provider.pk, report_id=report_id)
    except NotFound:
        raise Http404("No such bad-lead report.") from None
    return render(request, "portal/report_sent.html", {
        "report": report,
        "outcome": selectors.report_outcome(report),
        "rate_then": selectors.report_rate_at_filing(report),
        "rate_now": selectors.return_rate_for_provider(provider_id=request.provider.pk),
    })
