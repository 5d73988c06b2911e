"""Bad-lead reports (review, approve/reject with confirmation), marking a lead fraudulent, the auto-approval rules.

Every decision goes through `hotlead.refunds.services`; this module only asks for confirmation and reports back.
"""
from __future__ import annotations

from datetime import timedelta

from django.contrib import admin, messages
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.timesince import timesince
from unfold.contrib.filters.admin import TextFilter
from unfold.decorators import action, display

from admin_ext.base import ModelAdmin, choice_badge
from admin_ext.links import admin_link, admin_url
from admin_ext.mixins import ReadOnlyAdminMixin, confirmation_context, object_pk, safe_back_url
from hotlead.core.exceptions import ApplicationError
from hotlead.core.money import money_format
from hotlead.distribution.models import Assignment
from hotlead.leads.models import Lead
from hotlead.refunds import selectors, services
from hotlead.refunds.enums import ReportStatus
from hotlead.refunds.models import AutoApprovalRule, BadLeadReport

DECIDE_TEMPLATE = "admin/refunds/badleadreport/decide.html"
FRAUD_TEMPLATE = "admin/refunds/badleadreport/mark_fraud.html"


class AgeFilter(admin.SimpleListFilter):
    title = "age"
    parameter_name = "age"
    AGES = {
        "lt1d": ("Under a day", None, 1),
        "1to3d": ("1–3 days", 1, 3),
        "3to7d": ("3–7 days", 3, 7),
        "gt7d": ("Over 7 days", 7, None),
    }

    def lookups(self, request, model_admin):
        return [(key, label) for key, (label, _low, _high) in self.AGES.items()]

    def queryset(self, request, queryset):
        if self.value() not in self.AGES:
            return queryset
        _label, min_days, max_days = self.AGES[self.value()]
        now = timezone.now()
        if min_days is not None:
            queryset = queryset.filter(created_at__lte=now - timedelta(days=min_days))
        if max_days is not None:
            queryset = queryset.filter(created_at__gt=now - timedelta(days=max_days))
        return queryset


class ProviderFilter(TextFilter):
    title = "provider (name or id)"
    parameter_name = "provider"

    def queryset(self, request, queryset):
        value = (self.value() or "").strip()
        if not value:
            return queryset
        if value.isdigit():
            return queryset.filter(provider_id=int(value)) if int(value) <= selectors.MAX_DB_ID else queryset.none()
        return queryset.filter(provider__company_name__icontains=value)


@admin.register(BadLeadReport)
class BadLeadReportAdmin(ReadOnlyAdminMixin, ModelAdmin):
    # get_list_display adds the provider's return rate after "age"
    list_display = ("id", "created_at", "provider_link", "reason", "status_badge", "price", "age", "rule")
    list_display_links = ("id",)
    list_filter = ("status", "reason", ProviderFilter, AgeFilter)
    list_filter_submit = True
    search_fields = ("=id", "provider__company_name", "details")
    list_select_related = ("provider", "assignment__lead", "refund_entry")
    list_per_page = 50
    ordering = ("-created_at", "-id")
    actions = ["approve_selected", "reject_selected"]
    actions_row = ["approve_row", "reject_row"]
    actions_detail = ["approve_detail", "reject_detail", "mark_fraud_detail"]
    fieldsets = (
        ("Report", {"fields": ("status", "reason", "details", "created_at", "age")}),
        ("Lead", {"fields": ("lead_link", "lead_signals", "assignment_summary")}),
        ("Provider", {"fields": ("provider_link", "return_rate_now", "return_rate_at_filing", "provider_flag")}),
        ("Decision", {"fields": ("decided_by", "decided_at", "decision_note", "matched_rule", "auto_rule",
                                 "refund")}),
    )
    readonly_fields = ("status", "reason", "details", "created_at", "age", "lead_link", "lead_signals",
                       "assignment_summary", "provider_link", "return_rate_now", "return_rate_at_filing",
                       "provider_flag", "decided_by", "decided_at", "decision_note", "matched_rule", "auto_rule",
                       "refund")

    # --- permissions: reports are filed by providers and decided through actions only ---

    def has_decide_permission(self, request, obj=None):
        return bool(request.user.is_active and request.user.is_staff)

    # --- columns ---

    @display(description="Provider")
    def provider_link(self, obj):
        return admin_link("admin:providers_provider_change", obj.provider_id, label=obj.provider)

    @display(description="Status", label={ReportStatus.PENDING: "warning", ReportStatus.APPROVED: "success",
                                          ReportStatus.REJECTED: "danger"})
    def status_badge(self, obj):
        return choice_badge(obj, "status")

    @display(description="Price")
    def price(self, obj):
        return money_format(obj.assignment.price_cents)

    @display(description="Age")
    def age(self, obj):
        return timesince(obj.created_at)

    @staticmethod
    def _rate(request, provider_id: int) -> selectors.ReturnRate:
        """One query per provider per request (a page lists many reports of few providers)."""
        cache = request.__dict__.setdefault("_refunds_return_rates", {})
        if provider_id not in cache:
            cache[provider_id] = selectors.return_rate_for_provider(provider_id=provider_id)
        return cache[provider_id]

    @staticmethod
    def _rate_text(rate: selectors.ReturnRate) -> str:
        text = f"{rate.percent}% ({rate.reports}/{rate.window})"
        return f"{text} — over the {rate.max_percent}% cap" if rate.over_cap else text

    def get_list_display(self, request):
        """The return-rate column needs the request (for its per-request cache): bind it here, thread-safely."""

        @display(description="Provider return rate")
        def return_rate(obj):
            return self._rate_text(self._rate(request, obj.provider_id))

        columns = list(super().get_list_display(request))
        columns.insert(columns.index("age") + 1, return_rate)
        return columns

    @display(description="Rule")
    def rule(self, obj):
        if obj.auto_rule:
            return f"auto-approved: {obj.get_auto_rule_display()}"
        if obj.matched_rule:
            return f"held (over cap): {obj.get_matched_rule_display()}"
        return "—"

    @display(description="Lead")
    def lead_link(self, obj):
        lead = obj.assignment.lead
        label = f"{lead.public_id} · {obj.assignment.category.name} · {lead.postal_code}"
        return admin_link("admin:leads_lead_change", lead.pk, label=label)

    @display(description="Objective signals")
    def lead_signals(self, obj):
        lead = obj.assignment.lead
        phone_ok = lead.phone_valid and not selectors.phone_fails_validation(lead.phone)
        return (f"e-mail bounced: {'yes' if lead.email_bounced else 'no'}; "
                f"phone valid: {'yes' if phone_ok else 'no'}; "
                f"in the provider's areas at sale: {'yes' if obj.assignment.in_area_at_sale else 'no'}; "
                f"marked fraudulent: {'yes' if lead.is_fraud else 'no'}")

    @display(description="Assignment")
    def assignment_summary(self, obj):
        a = obj.assignment
        return (f"#{a.pk} · {a.get_status_display()} · {a.level.name} · {money_format(a.price_cents)} · "
                f"sold {a.assigned_at:%Y-%m-%d %H:%M} UTC")

    @display(description="Return rate now")
    def return_rate_now(self, obj):
        return self._rate_text(selectors.return_rate_for_provider(provider_id=obj.provider_id))

    @display(description="Return rate when filed")
    def return_rate_at_filing(self, obj):
        if obj.return_rate_percent is None:
            return "—"
        return f"{obj.return_rate_percent}% ({obj.return_rate_reports} reports)"

    @display(description="Provider flagged")
    def provider_flag(self, obj):
        return (obj.provider.flagged_reason or "yes") if obj.provider.flagged else "no"

    @display(description="Refund")
    def refund(self, obj):
        if not obj.refund_entry_id:
            return "—"
        return f"{money_format(obj.refund_entry.amount_cents)} (ledger entry #{obj.refund_entry_id})"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("assignment__category", "assignment__level",
                                                            "decided_by")

    # --- the confirmation page, shared by row, detail and bulk actions ---

    def _decide(self, request, report_ids: list[int], *, approve: bool, back_url: str, bulk_action: str = ""):
        reports = list(
            BadLeadReport.objects.filter(pk__in=report_ids)
            .select_related("provider", "assignment__lead", "assignment__category")
            .order_by("id")
        )
        if not reports:
            raise Http404("No such bad-lead report.")
        note = (request.POST.get("note") or "").strip()
        error = ""
        if request.method == "POST" and request.POST.get("confirm") == "yes":
            if not approve and not note:
                error = "Write a note for the provider: it is in the rejection e-mail."
            else:
                outcome = services.reports_decide(report_ids=[r.pk for r in reports], approve=approve,
                                                  actor=request.user, note=note)
                verb = "Approved and refunded" if approve else "Rejected"
                if outcome.done:
                    ids = ", ".join(f"#{pk}" for pk in outcome.done)
                    self.message_user(request, f"{verb}: {ids}.", messages.SUCCESS)
                for pk, reason in outcome.refused.items():
                    self.message_user(request, f"Report #{pk} not changed: {reason}", messages.ERROR)
                return HttpResponseRedirect(back_url)
        pending = [r for r in reports if r.status == ReportStatus.PENDING]
        context = confirmation_context(
            self, request, selected=reports, back_url=back_url, bulk_action=bulk_action,
            title=(f"{'Approve' if approve else 'Reject'} {len(reports)} bad-lead report"
                   f"{'s' if len(reports) != 1 else ''}?"),
            approve=approve,
            rows=[{"report": r, "rate": self._rate_text(self._rate(request, r.provider_id)),
                   "price": money_format(r.assignment.price_cents)} for r in reports],
            pending_count=len(pending),
            refund_total=money_format(sum(r.assignment.price_cents for r in pending)),
            note=note, error=error,
        )
        return TemplateResponse(request, DECIDE_TEMPLATE, context)

    def _changelist_url(self) -> str:
        return reverse("admin:refunds_badleadreport_changelist")

    def _detail_url(self, object_id) -> str:
        return reverse("admin:refunds_badleadreport_change", args=[object_id])

    @staticmethod
    def _object_id(object_id) -> int:
        return object_pk(object_id, not_found="No such bad-lead report.")

    @action(description="Approve and refund", permissions=["decide"], icon="check_circle", url_path="approve-row")
    def approve_row(self, request, object_id):
        return self._decide(request, [self._object_id(object_id)], approve=True, back_url=self._changelist_url())

    @action(description="Reject with a note", permissions=["decide"], icon="cancel", url_path="reject-row")
    def reject_row(self, request, object_id):
        return self._decide(request, [self._object_id(object_id)], approve=False, back_url=self._changelist_url())

    @action(description="Approve and refund", permissions=["decide"], icon="check_circle", url_path="approve")
    def approve_detail(self, request, object_id):
        return self._decide(request, [self._object_id(object_id)], approve=True,
                            back_url=self._detail_url(object_id))

    @action(description="Reject with a note", permissions=["decide"], icon="cancel", url_path="reject")
    def reject_detail(self, request, object_id):
        return self._decide(request, [self._object_id(object_id)], approve=False,
                            back_url=self._detail_url(object_id))

    @action(description="Mark the lead fraudulent", permissions=["decide"], icon="gpp_bad", url_path="mark-fraud")
    def mark_fraud_detail(self, request, object_id):
        report = BadLeadReport.objects.select_related("assignment__lead").filter(pk=self._object_id(object_id)).first()
        if report is None:
            raise Http404("No such bad-lead report.")
        url = reverse("admin:refunds_lead_mark_fraud", args=[report.assignment.lead.public_id])
        return HttpResponseRedirect(f"{url}?next={self._detail_url(object_id)}")

    @action(description="Approve and refund the selected reports", permissions=["decide"])
    def approve_selected(self, request, queryset):
        return self._decide(request, list(queryset.values_list("pk", flat=True)), approve=True,
                            back_url=self._changelist_url(), bulk_action="approve_selected")

    @action(description="Reject the selected reports with a note", permissions=["decide"])
    def reject_selected(self, request, queryset):
        return self._decide(request, list(queryset.values_list("pk", flat=True)), approve=False,
                            back_url=self._changelist_url(), bulk_action="reject_selected")

    # --- marking a lead fraudulent (also linked from the lead's page) ---

    def get_urls(self):
        return [
            path("mark-fraud/<uuid:lead_id>/", self.admin_site.admin_view(self.mark_fraud_view),
                 name="refunds_lead_mark_fraud"),
            *super().get_urls(),
        ]

    def mark_fraud_view(self, request, lead_id):
        if not self.has_decide_permission(request):
            raise Http404
        lead = Lead.objects.select_related("category").filter(public_id=lead_id).first()
        if lead is None:
            raise Http404("No such lead.")
        back_url = safe_back_url(
            request, admin_url("admin:leads_lead_change", lead.pk) or self._changelist_url())
        if request.method == "POST" and request.POST.get("confirm") == "yes":
            try:
                outcome = services.lead_mark_fraud(lead_public_id=lead.public_id, actor=request.user)
            except ApplicationError as exc:
                self.message_user(request, exc.message, messages.ERROR)
            else:
                total = sum(row["refund_cents"] for row in outcome.refunds)
                self.message_user(
                    request,
                    f"Lead {lead.public_id} is marked fraudulent: {len(outcome.refunds)} buyer(s) refunded "
                    f"({money_format(total)}), {len(outcome.reports_closed)} open report(s) closed.",
                    messages.SUCCESS,
                )
            return HttpResponseRedirect(back_url)
        buyers = list(Assignment.objects.filter(lead=lead).select_related("provider", "level").order_by("id"))
        to_refund = [a for a in buyers if a.status != "refunded"]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Mark this lead fraudulent?",
            "lead": lead,
            "buyers": [{"assignment": a, "price": money_format(a.price_cents)} for a in buyers],
            "refund_count": len(to_refund),
            "refund_total": money_format(sum(a.price_cents for a in to_refund)),
            "back_url": back_url,
        }
        return TemplateResponse(request, FRAUD_TEMPLATE, context)


@admin.register(AutoApprovalRule)
class AutoApprovalRuleAdmin(ModelAdmin):
    """Switch each objective rule on or off; every switch is audit-logged."""

    list_display = ("rule", "enabled_badge", "updated_at")
    fields = ("rule", "enabled", "updated_at")
    readonly_fields = ("rule", "updated_at")
    ordering = ("code",)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @display(description="Rule")
    def rule(self, obj):
        return obj.get_code_display()

    @display(description="Enabled", label={"on": "success", "off": "danger"})
    def enabled_badge(self, obj):
        return "on" if obj.enabled else "off"

    def save_model(self, request, obj, form, change):
        rule = services.auto_rule_set_enabled(code=obj.code, enabled=obj.enabled, actor=request.user)
        obj.updated_at = rule.updated_at
