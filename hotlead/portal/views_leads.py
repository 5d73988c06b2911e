"""Portal pages of the provider's leads: home (balance, 30-day KPIs, chart), inbox, lead page, accept/reject.

Thin: selectors read, services decide; the page explains. Times are shown in the provider's time zone.
"""
from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from hotlead.core.exceptions import ApplicationError, Conflict, NotFound, ValidationFailed
from hotlead.distribution.enums import AssignmentStatus
from hotlead.distribution.selectors.inbox import (
    INBOX_DEFAULT_LIMIT,
    assignment_get_for_provider,
    day_bounds,
    inbox_cursor_decode,
    inbox_for_provider,
    inbox_lead_details,
)
from hotlead.distribution.selectors.kpis import provider_kpis
from hotlead.distribution.selectors.providers import provider_home_summary
from hotlead.distribution.selectors.runs import provider_missed_for_balance
from hotlead.distribution.services.assignments import REJECT_REASON_MAX_LENGTH, assignment_accept, assignment_reject
from hotlead.leads.models import Category
from hotlead.leads.selectors import postal_code_place
from hotlead.portal.decorators import portal_login_required
from hotlead.portal.forms import form_errors_apply
from hotlead.portal.metrics import INBOX_QUERY_DURATION
from hotlead.portal.prg import form_restore, form_stash, post_only
from hotlead.refunds.enums import BadLeadReason
from hotlead.refunds.selectors import report_window_closes_at, report_window_open
from hotlead.refunds.services import DETAILS_MAX_LENGTH, assignment_reject_and_report

HOME_DAYS = 30


# ---- home ------------------------------------------------------------------------------------------------

def _bar_chart(series, *, height: int = 120, bar_width: int = 14, gap: int = 4) -> dict:
    """Geometry of an inline SVG bar chart of leads received per day (drawn on the server, no script)."""
    peak = max((bucket.figures.received for bucket in series), default=0)
    scale = (height - 16) / peak if peak else 0
    bars = []
    for index, bucket in enumerate(series):
        value = bucket.figures.received
        bar_height = round(value * scale) if value else 0
        bars.append({
            "x": index * (bar_width + gap), "y": height - bar_height, "width": bar_width, "height": bar_height,
            "date": bucket.period_start, "value": value, "spend_cents": bucket.figures.spend_cents,
        })
    return {"bars": bars, "width": len(series) * (bar_width + gap) - gap, "height": height, "peak": peak}


@portal_login_required
@require_GET
def home(request):
    provider = request.provider
    today = timezone.now().astimezone(ZoneInfo(provider.timezone)).date()
    report = provider_kpis(provider_id=provider.pk, tz_name=provider.timezone, period="day",
                           date_from=today - timedelta(days=HOME_DAYS - 1), date_to=today)
    return render(request, "portal/home.html", {
        "summary": provider_home_summary(provider_id=provider.pk),
        "kpis": report.totals,
        "kpi_days": HOME_DAYS,
        "chart": _bar_chart(report.series),
        "missed": provider_missed_for_balance(provider_id=provider.pk),
    })


# ---- inbox -----------------------------------------------------------------------------------------------

class InboxFilterForm(forms.Form):
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *AssignmentStatus.choices])
    category = forms.ChoiceField(required=False)
    date_from = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        categories = Category.objects.order_by("name").values_list("id", "name")
        self.fields["category"].choices = [("", "Any category"), *((str(pk), name) for pk, name in categories)]

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", "The end date must not be before the start date.")
        return data


@portal_login_required
@require_GET
def inbox(request):
    provider = request.provider
    form = InboxFilterForm(request.GET or None)
    page, cursor_error = None, False
    if not form.is_bound or form.is_valid():
        data = form.cleaned_data if form.is_bound else {}
        assigned_from, assigned_before = day_bounds(
            tz_name=provider.timezone, date_from=data.get("date_from"), date_to=data.get("date_to"))
        try:
            cursor = inbox_cursor_decode(request.GET["cursor"]) if request.GET.get("cursor") else None
        except ValidationFailed:
            cursor, cursor_error = None, True
        with INBOX_QUERY_DURATION.labels(surface="portal").time():
            page = inbox_for_provider(
                provider_id=provider.pk, status=data.get("status") or None,
                category_id=int(data["category"]) if data.get("category") else None,
                assigned_from=assigned_from, assigned_before=assigned_before, cursor=cursor,
                limit=INBOX_DEFAULT_LIMIT,
            )
    filters = {k: v for k, v in request.GET.items() if k != "cursor" and v}
    details = inbox_lead_details(provider_id=provider.pk, assignment_ids=[r.assignment_id for r in page.items]) \
        if page and page.items else {}
    return render(request, "portal/inbox.html", {
        "form": form,
        "page": page,
        "rows": [{"row": row, "lead": details.get(row.assignment_id)} for row in page.items] if page else [],
        "cursor_error": cursor_error,
        "is_first_page": not request.GET.get("cursor") or cursor_error,
        "filtered": bool(filters),
        "first_page_query": urlencode(filters),
        "next_page_query": urlencode({**filters, "cursor": page.next_cursor}) if page and page.next_cursor else "",
        "tz": provider.timezone,
    })


# ---- one lead --------------------------------------------------------------------------------------------

class RejectForm(forms.Form):
    reason = forms.CharField(
        max_length=REJECT_REASON_MAX_LENGTH, label="Why do you reject this lead?",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="For your records and ours. Rejecting alone does not refund the lead.",
    )
    report = forms.BooleanField(
        required=False, label="Also report it as a bad lead and ask for a refund",
        help_text="Wrong number, fake or duplicate request? Tick this while the report window is open: "
                  "a lead you only reject can no longer be reported.",
    )
    report_reason = forms.ChoiceField(required=False, choices=BadLeadReason.choices, widget=forms.RadioSelect,
                                      label="What is wrong with it?")
    report_details = forms.CharField(
        required=False, max_length=DETAILS_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 3}),
        label="Details for our team", help_text="What happened when you contacted the homeowner? Required for “Other”.",
    )

    def __init__(self, *args, can_report: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not can_report:
            for name in ("report", "report_reason", "report_details"):
                del self.fields[name]

    def clean(self):
        data = super().clean()
        if data.get("report") and not data.get("report_reason"):
            self.add_error("report_reason", "Choose what is wrong with the lead, or untick “Also report it”.")
        return data


def _report_url(assignment_id: int) -> str | None:
    """The bad-lead report page, once that issue's URL exists."""
    try:
        return reverse("portal:lead_report", args=[assignment_id])
    except NoReverseMatch:
        return None


def _lead_assignment(request, assignment_id: int):
    try:
        return assignment_get_for_provider(provider_id=request.provider.pk, assignment_id=assignment_id)
    except NotFound:
        raise Http404("No such lead in your inbox.") from None


def _can_report(assignment) -> bool:
    """The lead may still be reported: not reported yet, not settled, inside the window."""
    return (getattr(assignment, "bad_lead_report", None) is None
            and assignment.status in (AssignmentStatus.ASSIGNED, AssignmentStatus.ACCEPTED)
            and report_window_open(assigned_at=assignment.assigned_at, now=timezone.now()))


def _lead_page(request, assignment_id: int, *, reject_form: RejectForm | None = None, status: int = 200):
    assignment = _lead_assignment(request, assignment_id)
    report = getattr(assignment, "bad_lead_report", None)
    can_report = _can_report(assignment)
    return render(request, "portal/lead.html", {
        "assignment": assignment,
        "lead": assignment.lead,
        "place": postal_code_place(assignment.lead.postal_code),
        "report": report,
        "report_url": _report_url(assignment.pk) if can_report else None,
        "can_report": can_report,
        "window_closes_at": report_window_closes_at(assigned_at=assignment.assigned_at),
        "can_decide": assignment.status == AssignmentStatus.ASSIGNED,
        "reject_form": reject_form or RejectForm(can_report=can_report),
        "tz": request.provider.timezone,
    }, status=status)


@portal_login_required
@require_GET
def lead(request, assignment_id: int):
    return _lead_page(request, assignment_id, reject_form=form_restore(request, f"reject:{assignment_id}", RejectForm))


@portal_login_required
@post_only("portal:lead")
def lead_accept(request, assignment_id: int):
    try:
        assignment_accept(provider=request.provider, assignment_id=assignment_id)
    except NotFound:
        raise Http404("No such lead in your inbox.") from None
    except Conflict as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Lead accepted. Good luck with the job!")
    return redirect("portal:lead", assignment_id=assignment_id)


@portal_login_required
@post_only("portal:lead")
def lead_reject(request, assignment_id: int):
    """Reject; with "also report it" ticked, reject and report as a bad lead in one step."""
    form = RejectForm(request.POST, can_report=_can_report(_lead_assignment(request, assignment_id)))
    if form.is_valid():
        data = form.cleaned_data
        try:
            if data.get("report"):
                report = assignment_reject_and_report(
                    provider=request.provider, assignment_id=assignment_id, reject_reason=data["reason"],
                    report_reason=data["report_reason"], details=data.get("report_details", ""))
            else:
                assignment_reject(provider=request.provider, assignment_id=assignment_id,
                                  reason=data["reason"])
        except NotFound:
            raise Http404("No such lead in your inbox.") from None
        except Conflict as exc:
            messages.error(request, exc.message)
            return redirect("portal:lead", assignment_id=assignment_id)
        except ApplicationError as exc:
            form_errors_apply(form, exc, field_map={"details": "report_details"} if data.get("report") else None)
        else:
            if data.get("report"):
                messages.success(request, "Lead rejected and reported as a bad lead. We e-mail you the decision.")
                return redirect("portal:report_sent", report_id=report.pk)
            messages.success(request, "Lead rejected.")
            return redirect("portal:lead", assignment_id=assignment_id)
    form_stash(request, f"reject:{assignment_id}", form)  # POST-redirect-GET: the page shows the form's errors
    return redirect("portal:lead", assignment_id=assignment_id)
