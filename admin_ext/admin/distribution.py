"""Assignments and distribution runs (read-only), and the console's "Distribute now" (SPEC §4, §9).

The run itself goes through `hotlead.distribution.services.engine`; this module asks for confirmation
(it moves money) and reports back. The lead page links here with its "Distribute now…" action.
"""
from __future__ import annotations

from django.contrib import admin, messages
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from unfold.decorators import display

from admin_ext.base import ModelAdmin, choice_badge
from admin_ext.links import admin_link, admin_url
from admin_ext.mixins import ReadOnlyAdminMixin, safe_back_url
from hotlead.core.exceptions import ApplicationError
from hotlead.core.money import money_format
from hotlead.distribution.enums import AssignmentStatus
from hotlead.distribution.models import Assignment, DistributionRun
from hotlead.distribution.selectors.runs import lead_distribution_preview
from hotlead.distribution.services.engine import DISTRIBUTABLE, lead_distribute_manual
from hotlead.leads.models import Lead

DISTRIBUTE_TEMPLATE = "admin/distribution/distributionrun/distribute.html"


class _ReadOnly(ReadOnlyAdminMixin, ModelAdmin):
    """Rows written by the engine only: nobody adds, edits or deletes them here."""


@admin.register(Assignment)
class AssignmentAdmin(_ReadOnly):
    list_display = ("id", "lead_link", "provider_link", "level", "price", "status_badge", "assigned_at")
    list_filter = ("status", "level", "assigned_at")
    search_fields = ("lead__public_id", "provider__company_name", "provider__user__email")
    search_help_text = "The lead's public id, the provider's company or e-mail"
    list_select_related = ("lead", "provider", "level")
    date_hierarchy = "assigned_at"
    readonly_fields = ("lead_link", "provider_link", "level", "subscription", "category", "price", "status_badge",
                       "charge_entry", "assigned_at", "accepted_at", "rejected_at", "reject_reason", "refunded_at",
                       "in_area_at_sale")
    fields = readonly_fields

    @display(description="Lead")
    def lead_link(self, obj):
        return admin_link("admin:leads_lead_change", obj.lead_id, label=obj.lead.public_id)

    @display(description="Provider")
    def provider_link(self, obj):
        return admin_link("admin:providers_provider_change", obj.provider_id, label=obj.provider.company_name)

    @display(description="Price")
    def price(self, obj):
        return money_format(obj.price_cents)

    @display(description="Status", label={
        AssignmentStatus.ASSIGNED: "info", AssignmentStatus.ACCEPTED: "success",
        AssignmentStatus.REJECTED: "warning", AssignmentStatus.REFUNDED: "danger",
    })
    def status_badge(self, obj):
        return choice_badge(obj, "status")


@admin.register(DistributionRun)
class DistributionRunAdmin(_ReadOnly):
    list_display = ("id", "lead_link", "trigger", "outcome_badge", "buyers", "duration", "actor", "started_at")
    list_filter = ("trigger", "outcome", "started_at")
    search_fields = ("lead__public_id",)
    search_help_text = "The lead's public id"
    list_select_related = ("lead", "actor")
    date_hierarchy = "started_at"
    readonly_fields = ("lead_link", "trigger", "actor", "outcome_badge", "buyers", "started_at", "finished_at",
                       "duration", "trace_table")
    fields = readonly_fields

    @display(description="Lead")
    def lead_link(self, obj):
        return admin_link("admin:leads_lead_change", obj.lead_id, label=obj.lead.public_id)

    @display(description="Outcome", label={"distributed": "success", "unsold": "warning"})
    def outcome_badge(self, obj):
        return choice_badge(obj, "outcome")

    @display(description="Duration")
    def duration(self, obj):
        return "—" if obj.duration_ms is None else f"{obj.duration_ms:.1f} ms"

    @display(description="Trace (per level walked)")
    def trace_table(self, obj):
        rows = [
            (level.get("level"), level.get("considered", 0), level.get("eligible", "—"),
             ", ".join(f"{reason}: {n}" for reason, n in (level.get("skipped") or {}).items()) or "none",
             ", ".join(f"#{pid}" for pid in level.get("chosen") or []) or "—", level.get("why", ""))
            for level in (obj.trace or {}).get("levels", [])
        ]
        if not rows:
            return "No level was walked."
        head = format_html_join("", '<th class="py-1 pr-3 font-semibold">{}</th>',
                                ((h,) for h in ("Level", "Considered", "Eligible", "Skipped", "Chosen", "Why")))
        body = format_html_join("", '<tr class="border-t border-base-200 dark:border-base-800">{}</tr>', (
            (format_html_join("", '<td class="py-1 pr-3 align-top">{}</td>', ((cell,) for cell in row)),)
            for row in rows))
        return format_html('<table class="w-full text-left text-sm"><thead><tr>{}</tr></thead>'
                           "<tbody>{}</tbody></table>", head, body)

    # --- "Distribute now" (linked from the lead page) ---

    def has_distribute_permission(self, request, obj=None) -> bool:
        return bool(request.user.is_active and request.user.is_staff)

    def get_urls(self):
        return [
            path("distribute/<uuid:lead_id>/", self.admin_site.admin_view(self.distribute_view),
                 name="distribution_lead_distribute"),
            *super().get_urls(),
        ]

    def distribute_view(self, request, lead_id):
        if not self.has_distribute_permission(request):
            raise Http404
        lead = Lead.objects.select_related("category").filter(public_id=lead_id).first()
        if lead is None:
            raise Http404("No such lead.")
        back_url = safe_back_url(request, admin_url("admin:leads_lead_change", lead.pk) or reverse(
            "admin:distribution_distributionrun_changelist"))
        if request.method == "POST" and request.POST.get("confirm") == "yes":
            try:
                run = lead_distribute_manual(lead=lead, actor=request.user)
            except ApplicationError as exc:
                self.message_user(request, exc.message, messages.ERROR)
            else:
                if run.buyers:
                    self.message_user(request, f"Lead {lead.public_id} was sold to {run.buyers} provider(s) "
                                               f"at {run.trace.get('level')}.", messages.SUCCESS)
                else:
                    self.message_user(request, f"Lead {lead.public_id} is still unsold: no level had an eligible "
                                               "subscription (see the trace).", messages.WARNING)
            return HttpResponseRedirect(back_url)
        distributable = lead.status in DISTRIBUTABLE
        preview = lead_distribution_preview(lead=lead) if distributable else []
        for level in preview:
            level["price"] = money_format(level["price_cents"])
            level["skipped_text"] = ", ".join(f"{r}: {n}" for r, n in level["skipped"].items()) or "none"
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Distribute this lead now?",
            "lead": lead,
            "distributable": distributable,
            "preview": preview,
            "back_url": back_url,
        }
        return TemplateResponse(request, DISTRIBUTE_TEMPLATE, context)
