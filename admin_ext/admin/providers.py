"""Providers in the console: list with balance and last lead, edit, suspend / reinstate with a reason;
service areas inline and imported from a spreadsheet (django-import-export, preview with row errors).

Every change goes through `hotlead.providers.services`; this module only collects input and confirms.
"""
from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from import_export.admin import ImportExportModelAdmin
from unfold.admin import TabularInline
from unfold.contrib.import_export.forms import ExportForm, ImportForm
from unfold.decorators import action, display

from admin_ext.base import ModelAdmin
from admin_ext.links import admin_link, admin_url
from admin_ext.mixins import object_pk
from admin_ext.plain import when
from hotlead.core.exceptions import ApplicationError
from hotlead.core.money import money_format
from hotlead.core.services import audit_record
from hotlead.distribution.selectors.providers import provider_list_annotated
from hotlead.leads.models import Category
from hotlead.providers import services
from hotlead.providers.enums import AreaKind, ProviderStatus
from hotlead.providers.models import Provider, ServiceArea
from hotlead.providers.resources import ServiceAreaResource
from hotlead.providers.validators import (
    WEBHOOK_URL_MAX,
    phone_normalise,
    postal_code_clean,
    postal_prefix_clean,
    timezone_validate,
    webhook_url_validate,
)
from reports.provider_overview import provider_overview

STATUS_TEMPLATE = "admin/providers/provider/status_change.html"
CLEAR_FLAG_TEMPLATE = "admin/providers/provider/clear_flag.html"
LOW_BALANCE_MAX_CENTS = 100_000_000  # the services' limit


class ProviderForm(forms.ModelForm):
    """The editable profile; validated with the same rules as the API."""

    webhook_url = forms.CharField(required=False, max_length=WEBHOOK_URL_MAX, label="Webhook URL",
                                  help_text="https:// only; leave empty for none.")
    # dollars on screen, integer cents in the database (Decimal in between: never a float)
    low_balance_threshold = forms.DecimalField(
        label="Low-balance alert below", min_value=0, max_value=Decimal(LOW_BALANCE_MAX_CENTS) / 100,
        decimal_places=2, help_text="In dollars: the provider is e-mailed when the balance drops below it.")

    class Meta:
        model = Provider
        fields = ("company_name", "contact_name", "phone", "timezone", "categories", "notify_assignments",
                  "webhook_url")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # the service accepts active categories only (a retired one the provider still has is dropped on save)
        self.fields["categories"].queryset = Category.objects.filter(active=True).order_by("name")
        if self.instance.pk is not None:
            cents = self.instance.low_balance_threshold_cents
            self.fields["low_balance_threshold"].initial = (Decimal(cents) / 100).quantize(Decimal("0.01"))

    def _clean_with(self, field: str, func):
        try:
            return func(self.cleaned_data.get(field) or "")
        except ValueError as exc:
            raise forms.ValidationError(str(exc))

    def clean_phone(self):
        return self._clean_with("phone", phone_normalise)

    def clean_timezone(self):
        return self._clean_with("timezone", timezone_validate)

    def clean_webhook_url(self):
        return self._clean_with("webhook_url", webhook_url_validate)


class ServiceAreaForm(forms.ModelForm):
    class Meta:
        model = ServiceArea
        fields = ("kind", "value")

    def clean(self):
        data = super().clean()
        kind, value = data.get("kind"), data.get("value")
        if kind and value is not None:
            try:
                data["value"] = postal_prefix_clean(value) if kind == AreaKind.PREFIX else postal_code_clean(value)
            except ValueError as exc:
                self.add_error("value", str(exc))
            else:
                self.instance.value = data["value"]
                self._duplicate_check(kind, data["value"])
        return data

    def _duplicate_check(self, kind: str, value: str) -> None:
        """The unique (provider, kind, value) constraint is not checked by inline forms (their foreign key is
        excluded from validation), and the row may sit on another page of the inline: ask the database."""
        provider_id = self.instance.provider_id
        if provider_id is None or not self.has_changed():
            return
        taken = ServiceArea.objects.filter(provider_id=provider_id, kind=kind, value=value)
        if self.instance.pk is not None:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            self.add_error("value", f"{value} is already one of this provider's areas.")


class ServiceAreaInline(TabularInline):
    model = ServiceArea
    form = ServiceAreaForm
    fields = ("kind", "value")
    extra = 0
    per_page = 25
    tab = True


@admin.register(Provider)
class ProviderAdmin(ModelAdmin):
    form = ProviderForm
    inlines = [ServiceAreaInline]
    list_display = ("company_name", "email", "status_badge", "balance", "categories_list", "areas_count",
                    "last_lead", "flag_badge")
    list_filter = ("status", "flagged", "categories")
    list_filter_submit = True
    search_fields = ("company_name", "contact_name", "user__email", "=id")
    list_per_page = 50
    ordering = ("-id",)
    autocomplete_fields = ()
    filter_horizontal = ("categories",)
    # only the action the provider's status allows is shown: Suspend or Reinstate (get_actions_detail)
    actions_detail = ["suspend_detail", "reinstate_detail", "clear_flag_detail"]
    # above the profile: balance, ledger, subscriptions, purchases, reports, rates, flags, missed leads, audit
    change_form_outer_before_template = "admin_ext/provider_overview.html"
    fieldsets = (
        ("Profile", {"fields": ("email", "company_name", "contact_name", "phone", "timezone", "categories",
                                "webhook_url")}),
        ("Notifications", {"fields": ("notify_assignments", "low_balance_threshold")}),
        ("Status", {"fields": ("status_badge", "email_verified_when", "suspended_reason", "suspended_when",
                               "flag_badge", "flagged_reason")}),
        ("Activity", {"fields": ("balance", "areas_count", "last_lead", "mfa", "registered_when")}),
    )
    readonly_fields = ("email", "status_badge", "email_verified_when", "suspended_reason", "suspended_when",
                       "flag_badge", "flagged_reason", "balance", "areas_count", "last_lead", "mfa",
                       "registered_when")

    # --- permissions: providers register themselves; status changes go through the actions ---

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_status_permission(self, request, obj=None):
        return bool(request.user.is_active and request.user.is_staff)

    def get_queryset(self, request):
        return provider_list_annotated()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        try:
            pk = self._pk(object_id)
        except Http404:
            pk = None
        if pk is not None and Provider.objects.filter(pk=pk).exists():
            extra_context = {**(extra_context or {}), "overview": provider_overview(provider_id=pk),
                             "links": self._overview_links(pk)}
        return super().change_view(request, object_id, form_url, extra_context)

    @staticmethod
    def _overview_links(pk: int) -> dict[str, str | None]:
        def url(name: str, *args, **query) -> str | None:
            return admin_url(f"admin:{name}", *args, **query)

        return {
            "account": url("billing_account_change", pk),
            "deposit": url("billing_account_deposit_detail", pk),
            "adjust": url("billing_account_adjust_detail", pk),
            "ledger": url("billing_ledgerentry_changelist", account__exact=pk),
            "subscriptions": url("levels_subscription_changelist", provider__id__exact=pk),
            "purchases": url("distribution_assignment_changelist", provider__id__exact=pk),
            "reports": url("refunds_badleadreport_changelist", provider__id__exact=pk),
            "flagged": url("providers_provider_changelist", flagged__exact=1),
            "clear_flag": url("providers_provider_clear_flag_detail", pk),
            "runs": url("distribution_distributionrun_changelist"),
            "audit": url("core_auditlog_changelist", object_type__exact="providers.provider", q=pk),
        }

    def get_actions_detail(self, request, object_id):
        """Suspend or Reinstate, whichever the status allows; Clear flag only on a flagged provider."""
        actions = super().get_actions_detail(request, object_id)
        try:
            state = Provider.objects.filter(pk=self._pk(object_id)).values_list("status", "flagged").first()
        except Http404:
            state = None
        if state is None:
            return actions
        status, flagged = state
        allowed = {
            "suspend_detail": status != ProviderStatus.SUSPENDED,
            "reinstate_detail": status == ProviderStatus.SUSPENDED,
            "clear_flag_detail": flagged,
        }
        prefix = f"{self.model._meta.app_label}_{self.model._meta.model_name}_"
        return [a for a in actions if allowed.get(a.action_name.removeprefix(prefix), True)]

    @action(description="Clear flag", permissions=["status"], icon="flag", url_path="clear-flag")
    def clear_flag_detail(self, request, object_id):
        provider = Provider.objects.filter(pk=self._pk(object_id)).first()
        if provider is None:
            raise Http404("No such provider.")
        back_url = self._detail_url(object_id)
        note = (request.POST.get("note") or "").strip()
        error = ""
        if request.method == "POST" and request.POST.get("confirm") == "yes":
            try:
                services.provider_flag_clear(provider_id=provider.pk, actor=request.user, note=note)
            except ApplicationError as exc:
                fields = (exc.details or {}).get("fields") if isinstance(exc.details, dict) else None
                if not fields:
                    self.message_user(request, exc.message, messages.ERROR)
                    return HttpResponseRedirect(back_url)
                error = fields[0]["message"]
            else:
                self.message_user(request, f"The flag on {provider.company_name} is cleared.", messages.SUCCESS)
                return HttpResponseRedirect(back_url)
        context = {
            **self.admin_site.each_context(request), "opts": self.model._meta,
            "title": f"Clear the flag on {provider.company_name}?", "provider": provider, "note": note,
            "error": error, "back_url": back_url,
        }
        return TemplateResponse(request, CLEAR_FLAG_TEMPLATE, context)

    # --- columns ---

    @display(description="E-mail", ordering="user__email")
    def email(self, obj):
        return obj.user.email

    @display(description="Status", ordering="status", label={
        ProviderStatus.ACTIVE.label: "success", ProviderStatus.PENDING_VERIFICATION.label: "warning",
        ProviderStatus.SUSPENDED.label: "danger"})
    def status_badge(self, obj):
        return obj.get_status_display()

    @display(description="Flag", ordering="flagged", label={"Flagged": "danger"})
    def flag_badge(self, obj):
        return "Flagged" if obj.flagged else "—"

    @display(description="E-mail verified")
    def email_verified_when(self, obj):
        return when(obj.email_verified_at)

    @display(description="Suspended")
    def suspended_when(self, obj):
        return when(obj.suspended_at)

    @display(description="Registered")
    def registered_when(self, obj):
        return when(obj.created_at)

    @display(description="Balance", ordering="balance_cents")
    def balance(self, obj):
        return money_format(obj.balance_cents or 0)

    @display(description="Categories")
    def categories_list(self, obj):
        return ", ".join(c.name for c in obj.categories.all()) or "—"

    @display(description="Areas", ordering="areas_count")
    def areas_count(self, obj):
        return obj.areas_count

    @display(description="Last lead", ordering="last_assigned_at")
    def last_lead(self, obj):
        return when(obj.last_assigned_at) if obj.last_assigned_at else "never"

    @display(description="Two-factor")
    def mfa(self, obj):
        return "on" if obj.user.totpdevice_set.filter(confirmed=True).exists() else "off"

    # --- saving through the service (validation, audit) ---

    @transaction.atomic
    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        services.provider_admin_update(
            provider_id=obj.pk, company_name=data["company_name"], contact_name=data["contact_name"],
            phone=data["phone"], categories=[c.slug for c in data["categories"]], timezone_name=data["timezone"],
            webhook_url=data.get("webhook_url") or "", assignment_email=data["notify_assignments"],
            low_balance_threshold_cents=int(data["low_balance_threshold"] * 100), actor=request.user,
        )

    def save_related(self, request, form, formsets, change):
        # categories were saved by the service; only the inline areas remain
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def save_formset(self, request, form, formset, change):
        changed = formset.has_changed()
        super().save_formset(request, form, formset, change)
        if changed:
            codes, prefixes = services.service_areas_of(provider_id=form.instance.pk)
            audit_record(action="provider.service_areas_updated", actor=request.user, obj=form.instance,
                         changes={"postal_codes": len(codes), "prefixes": len(prefixes), "channel": "console"})

    # --- suspend / reinstate, with a reason and a confirmation page ---

    def _status_change(self, request, object_id, *, suspend: bool, back_url: str):
        provider = Provider.objects.select_related("user").filter(pk=self._pk(object_id)).first()
        if provider is None:
            raise Http404("No such provider.")
        reason = (request.POST.get("reason") or "").strip()
        error = ""
        if request.method == "POST" and request.POST.get("confirm") == "yes":
            func = services.provider_suspend if suspend else services.provider_reinstate
            try:
                func(provider_id=provider.pk, reason=reason, actor=request.user)
            except ApplicationError as exc:
                fields = (exc.details or {}).get("fields") if isinstance(exc.details, dict) else None
                error = fields[0]["message"] if fields else exc.message
                if not fields:
                    self.message_user(request, exc.message, messages.ERROR)
                    return HttpResponseRedirect(back_url)
            else:
                verb = "suspended" if suspend else "reinstated"
                self.message_user(request, f"{provider.company_name} is {verb}.", messages.SUCCESS)
                return HttpResponseRedirect(back_url)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"{'Suspend' if suspend else 'Reinstate'} {provider.company_name}?",
            "provider": provider, "suspend": suspend, "reason": reason, "error": error, "back_url": back_url,
        }
        return TemplateResponse(request, STATUS_TEMPLATE, context)

    @staticmethod
    def _pk(object_id) -> int:
        return object_pk(object_id, not_found="No such provider.")

    def _detail_url(self, object_id) -> str:
        return reverse("admin:providers_provider_change", args=[self._pk(object_id)])

    @action(description="Suspend", permissions=["status"], icon="block", url_path="suspend")
    def suspend_detail(self, request, object_id):
        return self._status_change(request, object_id, suspend=True, back_url=self._detail_url(object_id))

    @action(description="Reinstate", permissions=["status"], icon="restart_alt", url_path="reinstate")
    def reinstate_detail(self, request, object_id):
        return self._status_change(request, object_id, suspend=False, back_url=self._detail_url(object_id))


@admin.register(ServiceArea)
class ServiceAreaAdmin(ModelAdmin, ImportExportModelAdmin):
    """All providers' areas; the place to import a spreadsheet of them (preview first, row-level errors)."""

    resource_classes = [ServiceAreaResource]
    import_form_class = ImportForm
    export_form_class = ExportForm
    list_display = ("value_display", "kind", "provider_link", "created_at")
    list_filter = ("kind",)
    search_fields = ("value", "provider__company_name", "=provider__id")
    list_select_related = ("provider",)
    list_per_page = 100
    ordering = ("provider_id", "kind", "value")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @display(description="Area", ordering="value")
    def value_display(self, obj):
        return str(obj)

    @display(description="Provider")
    def provider_link(self, obj):
        return admin_link("admin:providers_provider_change", obj.provider_id, label=obj.provider)
