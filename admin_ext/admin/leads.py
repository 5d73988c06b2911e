"""Categories (with spreadsheet import/export) and the lead review queue (SPEC §3 review, §9).

Every decision goes through `hotlead.leads.services`; this module asks for confirmation and reports back.
"""
from __future__ import annotations

import uuid

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.db import connection, transaction
from django.db.models import OuterRef, Subquery, Sum
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.html import format_html, format_html_join
from import_export import resources
from import_export.admin import ExportMixin, ImportExportModelAdmin
from unfold.contrib.filters.admin import RangeDateFilter, RelatedDropdownFilter
from unfold.contrib.import_export.forms import ExportForm, ImportForm
from unfold.decorators import action, display

from admin_ext.base import ModelAdmin
from admin_ext.mixins import ReadOnlyAdminMixin, confirmation_context
from admin_ext.plain import when
from admin_ext.review_queue import age_text, review_queue_view
from hotlead.billing.formatting import money_format
from hotlead.core.exceptions import ApplicationError
from hotlead.core.services import audit_record
from hotlead.distribution.selectors import lead_detail
from hotlead.leads import selectors, services
from hotlead.leads.enums import LeadStatus, RejectReason
from hotlead.leads.models import Category, Lead
from hotlead.leads.validation import SLUG_RE
from reports.resources import LeadHumanResource

REVIEW_TEMPLATE = "admin/leads/lead/review.html"
STATUS_COLOURS = {
    LeadStatus.PENDING_VERIFICATION: "info",
    LeadStatus.VERIFIED: "info",
    LeadStatus.PENDING_REVIEW: "warning",
    LeadStatus.APPROVED: "success",
    LeadStatus.DISTRIBUTED: "success",
    LeadStatus.UNSOLD: "warning",
    LeadStatus.REJECTED: "danger",
    LeadStatus.EXPIRED: "danger",
}
# the badge shows the human label ("Pending review"), coloured by status
STATUS_LABELS = {LeadStatus(status).label: colour for status, colour in STATUS_COLOURS.items()}
STATUS_SENTENCES = {
    LeadStatus.PENDING_VERIFICATION: "Waiting for the submitter to enter the e-mailed code.",
    LeadStatus.VERIFIED: "E-mail verified; waiting for the submitter to confirm the request.",
    LeadStatus.PENDING_REVIEW: "Waiting for review: approve it to sell it, or reject it.",
    LeadStatus.APPROVED: "Approved; the sale is being made — this page refreshes itself until it is done.",
    LeadStatus.DISTRIBUTED: "Sold.",
    LeadStatus.UNSOLD: "Approved, but no provider could buy it yet; it is offered again while it is fresh.",
    LeadStatus.REJECTED: "Rejected in review; no provider sees it.",
    LeadStatus.EXPIRED: "Expired: the submitter never verified the e-mail address.",
}


def _admin_link(url_name: str, *args) -> str | None:
    try:
        return reverse(url_name, args=args)
    except NoReverseMatch:
        return None


def _money(cents: int | None) -> str:
    return "—" if cents is None else money_format(int(cents), settings.HOTLEAD["CURRENCY"])


def _status_label(status: str | None) -> str:
    if not status:
        return "—"
    return LeadStatus(status).label if status in LeadStatus.values else status.replace("_", " ")


def _provider_link(provider_id: int, label: str) -> str:
    link = _admin_link("admin:providers_provider_change", provider_id)
    return format_html('<a href="{}">{}</a>', link, label) if link else label


def _once(method):
    """Compute a read-only field once per lead per page: unfold renders a field's value more than once (tabs,
    error counts), and each of these reads the database."""
    from functools import wraps

    @wraps(method)
    def wrapper(self, obj):
        cache = obj.__dict__.setdefault("_hl_display_cache", {})
        if method.__name__ not in cache:
            cache[method.__name__] = method(self, obj)
        return cache[method.__name__]

    return wrapper


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
        from admin_ext.admin.sources import lead_source_summary

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
        from hotlead.distribution.models import Assignment

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

    @display(description="Status", label=STATUS_LABELS, ordering="status")
    def status_badge(self, obj):
        return obj.get_status_display()

    @display(description="What this means")
    def status_sentence(self, obj):
        text = STATUS_SENTENCES.get(obj.status, "")
        if obj.status == LeadStatus.DISTRIBUTED:
            text = f"Sold to {obj.buyers_count} buyer{'s' if obj.buyers_count != 1 else ''}."
        if obj.status == LeadStatus.APPROVED:
            return format_html('<span data-refresh-after="3">{}</span>', text)
        return text

    @display(description="Name", ordering="name")
    def who(self, obj):
        return obj.name if len(obj.name) <= 24 else f"{obj.name[:23]}…"

    @display(description="Age", ordering="created_at")
    def age(self, obj):
        return format_html('<span title="{}" class="hl-nowrap">{}</span>', when(obj.created_at),
                           age_text(obj.created_at, timezone.now()))

    @display(description="Buyers")
    def buyers_col(self, obj):
        name = getattr(obj, "first_buyer", None)
        if not obj.buyers_count or not name:
            return "—"
        more = f" + {obj.buyers_count - 1}" if obj.buyers_count > 1 else ""
        return f"{name}{more}"

    @display(description="Sold for")
    def sold_for(self, obj):
        cents = getattr(obj, "sold_for_cents", None)
        return _money(cents) if cents else "—"

    @display(description="Submitted")
    def created_when(self, obj):
        return when(obj.created_at)

    @display(description="Consent given")
    def consent_when(self, obj):
        return when(obj.consent_at)

    @display(description="E-mail verified")
    def verified_when(self, obj):
        return when(obj.verified_at)

    @display(description="Request confirmed")
    def confirmed_when(self, obj):
        return when(obj.confirmed_at)

    @display(description="Reviewed")
    def reviewed_when(self, obj):
        return when(obj.reviewed_at)

    @display(description="Sales")
    @_once
    def sales_summary(self, obj):
        assignments = list(lead_detail.lead_assignments(lead_id=obj.pk))
        if not assignments:
            return STATUS_SENTENCES.get(obj.status, "Not sold.") if obj.status != LeadStatus.DISTRIBUTED else "—"
        total = sum(a.price_cents for a in assignments)
        names = ", ".join(a.provider.company_name for a in assignments)
        return f"Sold to {len(assignments)} buyer{'s' if len(assignments) != 1 else ''} ({names}) for {_money(total)}."

    @display(description="What happened")
    @_once
    def trace_plain(self, obj):
        from hotlead.distribution.selectors.plain import lead_runs_plain

        stories = lead_runs_plain(lead_id=obj.pk)
        if not stories:
            return "No distribution run yet."
        return format_html_join("", '<div class="hl-story" data-testid="run-story"><p class="hl-story-head">{} — {}</p>'
                                    '<ul>{}</ul></div>',
                                ((when(story.started_at), story.heading,
                                  format_html_join("", "<li>{}</li>", ((line,) for line in story.lines)))
                                 for story in stories))

    @display(description="Duplicate?", label={"possible duplicate": "warning"})
    def duplicate_badge(self, obj):
        return "possible duplicate" if obj.possible_duplicate else ""

    @display(description="Budget")
    def budget(self, obj):
        return _money(obj.budget_cents)

    @display(description="Earlier lead")
    @_once
    def duplicate_link(self, obj):
        dup = obj.duplicate_of
        if dup is None:
            return "—"
        return format_html('<a href="{}">{}</a> · {} · {} · {}', reverse("admin:leads_lead_change", args=[dup.pk]),
                           dup.public_id, dup.get_status_display(), dup.email, when(dup.created_at))

    @display(description="Later duplicates")
    @_once
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
        return f"yes, {when(obj.fraud_marked_at)}" if obj.fraud_marked_at else "yes"

    @display(description="History")
    @_once
    def history_table(self, obj):
        events = list(selectors.lead_history(lead_id=obj.pk))
        if not events:
            return "No events yet."
        return _table(
            ("When", "What", "Status", "Who", "Note"),
            ((when(e.created_at), e.action.replace("_", " ").capitalize(),
              f"{_status_label(e.from_status)} → {_status_label(e.to_status)}" if e.to_status else "—",
              e.actor.email if e.actor else "system",
              e.note or ", ".join(f"{k}: {v}" for k, v in e.data.items()))
             for e in events),
        )

    @display(description="Assignments")
    @_once
    def assignments_table(self, obj):
        assignments = list(lead_detail.lead_assignments(lead_id=obj.pk))
        if not assignments:
            return "Not sold to anyone (yet)."
        return _table(
            ("Provider", "Level", "Price", "Status", "Sold"),
            ((_provider_link(a.provider_id, a.provider.company_name), a.level.name, _money(a.price_cents),
              a.get_status_display(), when(a.assigned_at)) for a in assignments),
        )

    @display(description="Engine trace (details)")
    @_once
    def distribution_trace(self, obj):
        from hotlead.providers.models import Provider

        runs = list(lead_detail.lead_distribution_runs(lead_id=obj.pk))
        if not runs:
            return "No distribution run yet."
        chosen_ids = {pid for run in runs for level in lead_detail.run_levels(run) for pid in level.get("chosen") or []
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
                 for level in lead_detail.run_levels(run)),
            )
            duration = f" · {run.duration_ms:.0f} ms" if run.duration_ms is not None else ""
            by = f" · by {run.actor.email}" if run.actor else ""
            blocks.append(format_html(
                '<p class="font-semibold mt-2">Run #{} · {} · {} · {} buyer(s) · {}{}{}</p>{}',
                run.pk, run.get_trigger_display(), _status_label(run.outcome) if run.outcome else "running", run.buyers,
                when(run.started_at), duration, by, levels,
            ))
        return format_html_join("", "<div>{}</div>", ((block,) for block in blocks))

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
