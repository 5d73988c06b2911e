"""The lead review queue (SPEC §3 review, §9): the list, the lead's page and the review actions.

Every decision goes through `hotlead.leads.services`; this module asks for confirmation and reports back.
"""
from __future__ import annotations

import uuid

from django import forms
from django.contrib import admin, messages
from django.db import connection, transaction
from django.db.models import OuterRef, Subquery, Sum
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.dateparse import parse_date
from import_export.admin import ExportMixin
from unfold.contrib.filters.admin import RangeDateFilter, RelatedDropdownFilter
from unfold.contrib.import_export.forms import ExportForm
from unfold.decorators import action

from admin_ext.admin.lead_fields import LeadFieldsMixin
from admin_ext.admin.sources import lead_source_summary
from admin_ext.base import ModelAdmin
from admin_ext.mixins import ReadOnlyAdminMixin, confirmation_context
from admin_ext.review_queue import review_queue_view
from hotlead.core.exceptions import ApplicationError
from hotlead.core.services import audit_record
from hotlead.distribution.models import Assignment
from hotlead.leads import selectors
from hotlead.leads.enums import LeadStatus, RejectReason
from hotlead.leads.models import Lead
from hotlead.leads.services import lifecycle
from reports.resources import LeadHumanResource

REVIEW_TEMPLATE = "admin/leads/lead/review.html"


class RejectForm(forms.Form):
    reason = forms.ChoiceField(choices=RejectReason.choices)
    note = forms.CharField(required=False, max_length=lifecycle.REVIEW_NOTE_MAX, widget=forms.Textarea)


class CreatedDateFilter(RangeDateFilter):
    """Whole days, both ends included (unfold's filter compares a datetime with a naive midnight)."""

    def queryset(self, request, queryset):
        filters = {}
        for suffix, lookup in (("_from", "gte"), ("_to", "lte")):
            value = self.used_parameters.get(f"{self.parameter_name}{suffix}")
            if isinstance(value, str) and value:
                try:
                    parsed = parse_date(value)
                except ValueError:
                    parsed = None
                if parsed is None:
                    return queryset.none()
                filters[f"{self.field_path}__date__{lookup}"] = parsed
        return queryset.filter(**filters)


class ExportModelAdmin(ExportMixin, admin.ModelAdmin):
    """Export only (import-export ships import+export and export-as-action bases, not this one)."""


@admin.register(Lead)
class LeadAdmin(ReadOnlyAdminMixin, LeadFieldsMixin, ModelAdmin, ExportModelAdmin):
    resource_classes = [LeadHumanResource]  # reports.resources: the report exports' human headers
    export_form_class = ExportForm
    # fits 1440 px: no contact columns (they are one click away), no per-row action menus
    list_display = ("short_id", "who", "age", "status_badge", "category", "postal_code", "budget", "buyers_col",
                    "sold_for", "duplicate_badge")
    list_display_links = ("short_id",)
    list_filter = (
        "status",
        ("category", RelatedDropdownFilter),
        ("created_at", CreatedDateFilter),
        "possible_duplicate",
        ("lead_source", RelatedDropdownFilter),  # issue 15: leads posted by a partner's API key
    )
    list_filter_submit = True
    search_fields = ("email", "phone", "postal_code", "public_id", "name", "reference")
    search_help_text = "E-mail, phone, postal code, name, the lead's public id or its reference (HL-…)"
    list_select_related = ("category",)
    list_per_page = 25  # unfold renders every cell with its mobile label: fewer rows, a faster page
    ordering = ("-created_at", "-id")
    actions = ["approve_selected", "reject_selected"]
    # only the actions the lead's state allows are shown (has_<x>_permission below, per lead)
    actions_detail = ["approve_detail", "reject_detail", "distribute_detail", "mark_fraud_detail"]
    # four tabs (unfold shows fieldsets with the "tab" class as tabs)
    fieldsets = (
        ("Request", {"classes": ["tab"], "fields": (
            "status_badge", "status_sentence", "reference", "public_id", "category", "postal_code", "description",
            "budget", "timeline", "created_when", "lead_source_display", "source", "utm_source", "utm_medium",
            "utm_campaign", "referrer",
            "api_client", "possible_duplicate", "duplicate_link", "later_duplicates_links")}),
        ("Contact", {"classes": ["tab"], "fields": (
            "name", "email", "phone", "phone_valid", "email_bounced", "consent_text_version", "consent_when",
            "consent_ip", "consent_user_agent")}),
        ("Sales & trace", {"classes": ["tab"], "fields": (
            "sales_summary", "assignments_table", "trace_plain", "distribution_trace", "fraud_link")}),
        ("History", {"classes": ["tab"], "fields": (
            "history_table", "verified_when", "confirmed_when", "reviewed_by", "reviewed_when", "reject_reason",
            "review_note")}),
    )
    readonly_fields = (
        "reference", "public_id", "status_badge", "status_sentence", "category", "postal_code", "description", "budget",
        "timeline", "created_when", "name", "email", "phone", "phone_valid", "email_bounced", "consent_text_version",
        "consent_when", "consent_ip", "consent_user_agent", "source", "utm_source", "utm_medium", "utm_campaign",
        "referrer", "api_client", "possible_duplicate", "duplicate_link", "later_duplicates_links", "verified_when",
        "confirmed_when", "reviewed_by", "reviewed_when", "reject_reason", "review_note", "fraud_link",
        "history_table", "sales_summary", "assignments_table", "trace_plain", "distribution_trace",
        "lead_source_display",
    )

    @admin.display(description="Lead source")
    def lead_source_display(self, obj):
        return lead_source_summary(obj)

    # --- permissions: leads come from the public form and change only through the review actions ---

    def has_review_permission(self, request, obj=None):
        return bool(request.user.is_active and request.user.is_staff)

    # Which detail actions the lead's state allows: only those are shown. Running one on a lead whose state has
    # moved on since the page was drawn still reaches the service, which refuses it with a message.
    ACTIONS_BY_STATE = {
        "approve_detail": lambda status, fraud: status == LeadStatus.PENDING_REVIEW,
        "reject_detail": lambda status, fraud: status == LeadStatus.PENDING_REVIEW,
        "distribute_detail": lambda status, fraud: status in (LeadStatus.APPROVED, LeadStatus.UNSOLD) and not fraud,
        "mark_fraud_detail": lambda status, fraud: not fraud and status in (
            LeadStatus.APPROVED, LeadStatus.DISTRIBUTED, LeadStatus.UNSOLD),
    }

    def get_actions_detail(self, request, object_id):
        actions = super().get_actions_detail(request, object_id)
        try:
            pk = self._lead_pk(object_id)
        except Http404:
            return actions
        state = Lead.objects.filter(pk=pk).values_list("status", "is_fraud").first()
        if state is None:
            return actions
        prefix = f"{self.model._meta.app_label}_{self.model._meta.model_name}_"
        return [a for a in actions
                if self.ACTIONS_BY_STATE.get(a.action_name.removeprefix(prefix), lambda *_: True)(*state)]

    def get_urls(self):
        site = self.admin_site
        extra = [
            path("review/", site.admin_view(lambda request: review_queue_view(self, request)),
                 name="leads_lead_review_queue"),
            # the row decisions keep their URLs (links and bookmarks) without a menu on every list row
            path("<path:object_id>/approve-row/", site.admin_view(self.approve_row), name="leads_lead_approve_row"),
            path("<path:object_id>/reject-row/", site.admin_view(self.reject_row), name="leads_lead_reject_row"),
        ]
        return [*extra, *super().get_urls()]

    def get_queryset(self, request):
        sales = Assignment.objects.filter(lead=OuterRef("pk")).order_by()
        return super().get_queryset(request).select_related("category", "duplicate_of", "reviewed_by",
                                                            "lead_source").annotate(
            sold_for_cents=Subquery(sales.values("lead").annotate(total=Sum("price_cents")).values("total")),
            first_buyer=Subquery(sales.order_by("assigned_at", "id").values("provider__company_name")[:1]),
        )

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        """The lead's page is read in one snapshot (REPEATABLE READ on PostgreSQL) and rendered inside it: a sale
        committed by a job worker while the page is being built shows everywhere on the page or nowhere — never
        "approved, 0 buyers" beside a history that already shows the sale."""
        if request.method != "GET" or object_id is None or connection.vendor != "postgresql" \
                or connection.in_atomic_block:
            return super().changeform_view(request, object_id, form_url, extra_context)
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            response = super().changeform_view(request, object_id, form_url, extra_context)
            if hasattr(response, "render"):
                response.render()
            return response

    def get_export_data(self, file_format, request, queryset, **kwargs):
        """Contact data leaving the console is audit-logged (SPEC §11: exports)."""
        data = super().get_export_data(file_format, request, queryset, **kwargs)
        audit_record(action="lead.export", actor=request.user, object_type="leads.lead",
                     changes={"rows": queryset.count(), "format": file_format.get_title(),
                              "filters": {k: v for k, v in request.GET.items() if k != "_changelist_filters"}})
        return data

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        return queryset.filter(selectors.lead_search_q(search_term)), False

    # --- review: one confirmation page for row, detail and bulk actions ---

    def _review(self, request, lead_ids: list[int], *, approve: bool, back_url: str, bulk_action: str = ""):
        leads = list(Lead.objects.filter(pk__in=lead_ids).select_related("category", "duplicate_of")
                     .order_by("created_at", "id"))
        if not leads:
            raise Http404("No such lead.")
        form = RejectForm(request.POST if request.method == "POST" and "confirm" in request.POST else None)
        if request.method == "POST" and request.POST.get("confirm") == "yes" and (approve or form.is_valid()):
            done, refused = [], []
            for lead in leads:
                try:
                    if approve:
                        lifecycle.lead_approve(lead_id=lead.pk, actor=request.user)
                    else:
                        lifecycle.lead_reject(lead_id=lead.pk, actor=request.user,
                                             reason=form.cleaned_data["reason"], note=form.cleaned_data["note"])
                except ApplicationError as exc:
                    refused.append(f"{str(lead.public_id)[:8]}: {exc.message}")
                else:
                    done.append(str(lead.public_id)[:8])
            if done:
                self.message_user(request, f"{'Approved' if approve else 'Rejected'} {len(done)} lead(s): "
                                           f"{', '.join(done)}.", messages.SUCCESS)
            for line in refused:
                self.message_user(request, f"Not changed — {line}", messages.ERROR)
            return HttpResponseRedirect(back_url)
        pending = sum(1 for lead in leads if lead.status == LeadStatus.PENDING_REVIEW)
        context = confirmation_context(
            self, request, selected=leads, back_url=back_url, bulk_action=bulk_action,
            title=f"{'Approve' if approve else 'Reject'} {len(leads)} lead{'s' if len(leads) != 1 else ''}?",
            approve=approve, leads=leads, pending_count=pending, form=form, reasons=RejectReason.choices,
        )
        return TemplateResponse(request, REVIEW_TEMPLATE, context)

    @staticmethod
    def _lead_pk(object_id) -> int:
        """Console URLs carry the numeric pk; a public UUID is accepted too."""
        try:
            pk = int(object_id)
        except (TypeError, ValueError):
            try:
                lead = Lead.objects.filter(public_id=uuid.UUID(str(object_id))).only("pk").first()
            except ValueError:
                lead = None
            if lead is None:
                raise Http404("No such lead.") from None
            return lead.pk
        if not 0 < pk < 2**63:
            raise Http404("No such lead.")
        return pk

    def _changelist_url(self) -> str:
        return reverse("admin:leads_lead_changelist")

    def _detail_url(self, object_id) -> str:
        return reverse("admin:leads_lead_change", args=[self._lead_pk(object_id)])

    @action(description="Approve", permissions=["review"], icon="check_circle", url_path="approve-row")
    def approve_row(self, request, object_id):
        return self._review(request, [self._lead_pk(object_id)], approve=True, back_url=self._changelist_url())

    @action(description="Reject…", permissions=["review"], icon="cancel", url_path="reject-row")
    def reject_row(self, request, object_id):
        return self._review(request, [self._lead_pk(object_id)], approve=False, back_url=self._changelist_url())

    @action(description="Approve", permissions=["review"], icon="check_circle", url_path="approve")
    def approve_detail(self, request, object_id):
        return self._review(request, [self._lead_pk(object_id)], approve=True, back_url=self._detail_url(object_id))

    @action(description="Reject…", permissions=["review"], icon="cancel", url_path="reject")
    def reject_detail(self, request, object_id):
        return self._review(request, [self._lead_pk(object_id)], approve=False,
                            back_url=self._detail_url(object_id))

    @action(description="Distribute now…", permissions=["review"], icon="send", url_path="distribute")
    def distribute_detail(self, request, object_id):
        """The confirmation page and the run live with the distribution console (admin_ext/admin/distribution.py)."""
        lead = Lead.objects.filter(pk=self._lead_pk(object_id)).only("public_id").first()
        if lead is None:
            raise Http404("No such lead.")
        url = reverse("admin:distribution_lead_distribute", args=[lead.public_id])
        return HttpResponseRedirect(f"{url}?next={self._detail_url(object_id)}")

    @action(description="Mark fraudulent…", permissions=["review"], icon="gpp_bad", url_path="mark-fraud")
    def mark_fraud_detail(self, request, object_id):
        """The confirmation page and the refunds live with the bad-lead console (admin_ext/admin/refunds.py)."""
        lead = Lead.objects.filter(pk=self._lead_pk(object_id)).only("public_id").first()
        if lead is None:
            raise Http404("No such lead.")
        url = reverse("admin:refunds_lead_mark_fraud", args=[lead.public_id])
        return HttpResponseRedirect(f"{url}?next={self._detail_url(object_id)}")

    @action(description="Approve the selected leads", permissions=["review"])
    def approve_selected(self, request, queryset):
        return self._review(request, list(queryset.values_list("pk", flat=True)), approve=True,
                            back_url=self._changelist_url(), bulk_action="approve_selected")

    @action(description="Reject the selected leads", permissions=["review"])
    def reject_selected(self, request, queryset):
        return self._review(request, list(queryset.values_list("pk", flat=True)), approve=False,
                            back_url=self._changelist_url(), bulk_action="reject_selected")
