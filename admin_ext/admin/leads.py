"""Categories (with spreadsheet import/export) and the lead review queue (SPEC §3 review, §9).

Every decision goes through `hotlead.leads.services`; this module asks for confirmation and reports back.
"""
from __future__ import annotations

import uuid

from django import forms
from django.contrib import admin, messages
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils.dateparse import parse_date
from django.utils.html import format_html, format_html_join
from import_export import resources
from import_export.admin import ExportMixin, ImportExportModelAdmin
from unfold.contrib.filters.admin import RangeDateFilter, RelatedDropdownFilter
from unfold.contrib.import_export.forms import ExportForm, ImportForm
from unfold.decorators import action, display

from admin_ext.base import ModelAdmin
from admin_ext.mixins import ReadOnlyAdminMixin, confirmation_context
from hotlead.core.exceptions import ApplicationError
from hotlead.core.services import audit_record
from hotlead.leads import selectors, services
from hotlead.leads.enums import LeadStatus, RejectReason
from hotlead.leads.models import Category, Lead
from hotlead.leads.validation import SLUG_RE

REVIEW_TEMPLATE = "admin/leads/lead/review.html"
STATUS_LABELS = {
    LeadStatus.PENDING_VERIFICATION: "info",
    LeadStatus.VERIFIED: "info",
    LeadStatus.PENDING_REVIEW: "warning",
    LeadStatus.APPROVED: "success",
    LeadStatus.DISTRIBUTED: "success",
    LeadStatus.UNSOLD: "warning",
    LeadStatus.REJECTED: "danger",
    LeadStatus.EXPIRED: "danger",
}


def _admin_link(url_name: str, *args) -> str | None:
    try:
        return reverse(url_name, args=args)
    except NoReverseMatch:
        return None


def _money(cents: int | None) -> str:
    return "—" if cents is None else f"${cents / 100:,.2f}"


def _provider_link(provider_id: int, label: str) -> str:
    link = _admin_link("admin:providers_provider_change", provider_id)
    return format_html('<a href="{}">{}</a>', link, label) if link else label


_TH = '<th class="py-1 pr-3 font-semibold">{}</th>'
_TD = '<td class="py-1 pr-3 align-top">{}</td>'


def _table(headers: tuple[str, ...], rows) -> str:
    """A small read-only table in the console's style; cells are escaped unless already safe."""
    head = format_html_join("", _TH, ((h,) for h in headers))
    body = format_html_join(
        "", '<tr class="border-t border-base-200 dark:border-base-800">{}</tr>',
        ((format_html_join("", _TD, ((cell,) for cell in row)),) for row in rows),
    )
    return format_html('<table class="w-full text-left text-sm"><thead><tr>{}</tr></thead><tbody>{}</tbody></table>',
                       head, body)


# --- categories ------------------------------------------------------------------------------------

class CategoryResource(resources.ModelResource):
    """Spreadsheet columns: slug (the key), name, active."""

    class Meta:
        model = Category
        import_id_fields = ("slug",)
        fields = ("slug", "name", "active")
        export_order = ("slug", "name", "active")
        skip_unchanged = True
        report_skipped = True

    def before_import_row(self, row, **kwargs):
        slug = str(row.get("slug") or "").strip().lower()
        name = " ".join(str(row.get("name") or "").split())
        if not (len(slug) <= 64 and SLUG_RE.match(slug)):
            raise ValueError(f"Invalid slug {slug!r}: use lower-case letters, digits and single dashes.")
        if not 1 <= len(name) <= 120:
            raise ValueError(f"Category {slug!r} needs a name of at most 120 characters.")
        row["slug"], row["name"] = slug, name

    def after_import(self, dataset, result, **kwargs):
        super().after_import(dataset, result, **kwargs)
        if kwargs.get("dry_run") or result.has_errors() or result.has_validation_errors():
            return
        totals = {key: value for key, value in result.totals.items() if value}
        audit_record(action="category.import", actor=kwargs.get("user"), object_type="leads.category",
                     changes={"totals": totals, "file": kwargs.get("file_name") or ""})


@admin.register(Category)
class CategoryAdmin(ModelAdmin, ImportExportModelAdmin):
    resource_classes = [CategoryResource]
    import_form_class = ImportForm
    export_form_class = ExportForm
    list_display = ("name", "slug", "active_badge", "lead_count", "updated_at")
    list_filter = ("active",)
    search_fields = ("name", "slug")
    ordering = ("name",)
    fields = ("slug", "name", "active")

    def get_readonly_fields(self, request, obj=None):
        return ("slug",) if obj else ()

    def has_delete_permission(self, request, obj=None):
        return False  # leads keep their category; deactivate instead

    @display(description="Active", label={"active": "success", "inactive": "danger"})
    def active_badge(self, obj):
        return "active" if obj.active else "inactive"

    @display(description="Leads")
    def lead_count(self, obj):
        return obj.leads.count()

    def save_model(self, request, obj, form, change):
        """Through the services, so the rules and the audit log are the API's."""
        if change:
            saved = services.category_update(slug=obj.slug, name=obj.name, active=obj.active, actor=request.user,
                                             request=request)
        else:
            saved = services.category_create(slug=obj.slug, name=obj.name, active=obj.active, actor=request.user,
                                             request=request)
        obj.pk, obj.created_at, obj.updated_at = saved.pk, saved.created_at, saved.updated_at


# --- leads -----------------------------------------------------------------------------------------

class RejectForm(forms.Form):
    reason = forms.ChoiceField(choices=RejectReason.choices)
    note = forms.CharField(required=False, max_length=services.REVIEW_NOTE_MAX, widget=forms.Textarea)


class LeadExportResource(resources.ModelResource):
    """Leads out to a spreadsheet (the review queue's filters apply); never in — leads come from the form."""

    class Meta:
        model = Lead
        fields = ("public_id", "created_at", "status", "category__slug", "postal_code", "name", "email", "phone",
                  "phone_valid", "description", "budget_cents", "timeline", "source", "utm_source", "utm_medium",
                  "utm_campaign", "possible_duplicate", "duplicate_of__public_id", "verified_at", "confirmed_at",
                  "reviewed_at", "reject_reason", "approved_at", "distributed_at", "buyers_count")
        export_order = fields


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
class LeadAdmin(ReadOnlyAdminMixin, ModelAdmin, ExportModelAdmin):
    resource_classes = [LeadExportResource]
    export_form_class = ExportForm
    list_display = ("short_id", "created_at", "status_badge", "category", "postal_code", "name", "email",
                    "duplicate_badge", "source")
    list_display_links = ("short_id",)
    list_filter = (
        "status",
        ("category", RelatedDropdownFilter),
        ("created_at", CreatedDateFilter),
        "possible_duplicate",
        ("lead_source", RelatedDropdownFilter),  # issue 15: leads posted by a partner's API key
    )
    list_filter_submit = True
    search_fields = ("email", "phone", "postal_code", "public_id", "name")
    search_help_text = "E-mail, phone, postal code, name or the lead's public id"
    list_select_related = ("category",)
    list_per_page = 50
    ordering = ("-created_at", "-id")
    actions = ["approve_selected", "reject_selected"]
    actions_row = ["approve_row", "reject_row"]
    actions_detail = ["approve_detail", "reject_detail", "distribute_detail", "mark_fraud_detail"]
    fieldsets = (
        ("Request", {"fields": ("public_id", "status_badge", "category", "postal_code", "description", "budget",
                                "timeline", "created_at")}),
        ("Contact", {"fields": ("name", "email", "phone", "phone_valid", "email_bounced")}),
        ("Consent", {"fields": ("consent_text_version", "consent_at", "consent_ip", "consent_user_agent")}),
        ("Source", {"fields": ("lead_source_display", "source", "utm_source", "utm_medium", "utm_campaign",
                               "referrer", "api_client")}),
        ("Duplicates", {"fields": ("possible_duplicate", "duplicate_link", "later_duplicates_links")}),
        ("Review", {"fields": ("verified_at", "confirmed_at", "reviewed_by", "reviewed_at", "reject_reason",
                               "review_note", "fraud_link")}),
        ("History", {"fields": ("history_table",)}),
        ("Sales (read-only)", {"fields": ("buyers_count", "assignments_table", "distribution_trace")}),
    )
    readonly_fields = (
        "public_id", "status_badge", "category", "postal_code", "description", "budget", "timeline", "created_at",
        "name", "email", "phone", "phone_valid", "email_bounced", "consent_text_version", "consent_at",
        "consent_ip", "consent_user_agent", "source", "utm_source", "utm_medium", "utm_campaign", "referrer",
        "api_client", "possible_duplicate", "duplicate_link", "later_duplicates_links", "verified_at",
        "confirmed_at", "reviewed_by", "reviewed_at", "reject_reason", "review_note", "fraud_link",
        "history_table", "buyers_count", "assignments_table", "distribution_trace", "lead_source_display",
    )

    @admin.display(description="Lead source")
    def lead_source_display(self, obj):
        from admin_ext.admin.sources import lead_source_summary

        return lead_source_summary(obj)

    # --- permissions: leads come from the public form and change only through the review actions ---

    def has_review_permission(self, request, obj=None):
        return bool(request.user.is_active and request.user.is_staff)

    def get_export_data(self, file_format, request, queryset, **kwargs):
        """Contact data leaving the console is audit-logged (SPEC §11: exports)."""
        data = super().get_export_data(file_format, request, queryset, **kwargs)
        audit_record(action="lead.export", actor=request.user, object_type="leads.lead", request=request,
                     changes={"rows": queryset.count(), "format": file_format.get_title(),
                              "filters": {k: v for k, v in request.GET.items() if k != "_changelist_filters"}})
        return data

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        return queryset.filter(selectors.lead_search_q(search_term)), False

    # --- columns and fields ---

    @display(description="Lead", ordering="public_id")
    def short_id(self, obj):
        return str(obj.public_id)[:8]

    @display(description="Status", label=STATUS_LABELS)
    def status_badge(self, obj):
        return obj.status

    @display(description="Duplicate?", label={"possible duplicate": "warning"})
    def duplicate_badge(self, obj):
        return "possible duplicate" if obj.possible_duplicate else ""

    @display(description="Budget")
    def budget(self, obj):
        return _money(obj.budget_cents)

    @display(description="Earlier lead")
    def duplicate_link(self, obj):
        dup = obj.duplicate_of
        if dup is None:
            return "—"
        return format_html('<a href="{}">{}</a> · {} · {} · {}', reverse("admin:leads_lead_change", args=[dup.pk]),
                           dup.public_id, dup.get_status_display(), dup.email, f"{dup.created_at:%Y-%m-%d %H:%M}")

    @display(description="Later duplicates")
    def later_duplicates_links(self, obj):
        later = list(obj.later_duplicates.order_by("created_at", "id")[:20])
        if not later:
            return "—"
        return format_html_join(", ", '<a href="{}">{}</a>',
                                ((reverse("admin:leads_lead_change", args=[d.pk]), str(d.public_id)[:8])
                                 for d in later))

    @display(description="Marked fraudulent")
    def fraud_link(self, obj):
        if not obj.is_fraud:
            return "no (use “Mark fraudulent…” above to refund every buyer)"
        return f"yes, {obj.fraud_marked_at:%Y-%m-%d %H:%M} UTC" if obj.fraud_marked_at else "yes"

    @display(description="History")
    def history_table(self, obj):
        events = list(selectors.lead_history(lead_id=obj.pk))
        if not events:
            return "No events yet."
        return _table(
            ("When (UTC)", "What", "Status", "Who", "Note"),
            ((f"{e.created_at:%Y-%m-%d %H:%M:%S}", e.action,
              f"{e.from_status or '—'} → {e.to_status}" if e.to_status else "—",
              e.actor.email if e.actor else "system",
              e.note or ", ".join(f"{k}: {v}" for k, v in e.data.items()))
             for e in events),
        )

    @display(description="Assignments")
    def assignments_table(self, obj):
        assignments = list(selectors.lead_assignments(lead_id=obj.pk))
        if not assignments:
            return "Not sold to anyone (yet)."
        return _table(
            ("Provider", "Level", "Price", "Status", "Sold (UTC)"),
            ((_provider_link(a.provider_id, a.provider.company_name), a.level.name, _money(a.price_cents),
              a.get_status_display(), f"{a.assigned_at:%Y-%m-%d %H:%M}") for a in assignments),
        )

    @display(description="Distribution trace")
    def distribution_trace(self, obj):
        from hotlead.providers.models import Provider

        runs = list(selectors.lead_distribution_runs(lead_id=obj.pk))
        if not runs:
            return "No distribution run yet."
        chosen_ids = {pid for run in runs for level in selectors.run_levels(run) for pid in level.get("chosen") or []
                      if isinstance(pid, int)}
        names = dict(Provider.objects.filter(pk__in=chosen_ids).values_list("pk", "company_name"))
        blocks = []
        for run in runs:
            levels = _table(
                ("Level", "Considered", "Eligible", "Skipped (reason: n)", "Chosen", "Why"),
                ((level.get("level", "?"), level.get("considered", 0), level.get("eligible", "—"),
                  ", ".join(f"{reason}: {n}" for reason, n in (level.get("skipped") or {}).items()) or "none",
                  format_html_join(", ", "{}", ((_provider_link(pid, names.get(pid, f"provider #{pid}")),)
                                                for pid in level.get("chosen") or [])) or "—",
                  level.get("why") or "")
                 for level in selectors.run_levels(run)),
            )
            duration = f" · {run.duration_ms:.0f} ms" if run.duration_ms is not None else ""
            by = f" · by {run.actor.email}" if run.actor else ""
            blocks.append(format_html(
                '<p class="font-semibold mt-2">Run #{} · {} · {} · {} buyer(s) · {} UTC{}{}</p>{}',
                run.pk, run.get_trigger_display(), run.outcome or "running", run.buyers,
                f"{run.started_at:%Y-%m-%d %H:%M:%S}", duration, by, levels,
            ))
        return format_html_join("", "<div>{}</div>", ((block,) for block in blocks))

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("category", "duplicate_of", "reviewed_by",
                                                            "lead_source")

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
                        services.lead_approve(lead_id=lead.pk, actor=request.user, request=request)
                    else:
                        services.lead_reject(lead_id=lead.pk, actor=request.user, request=request,
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
