"""Providers in the console: list with balance and last lead, edit, suspend / reinstate with a reason;
service areas inline and imported from a spreadsheet (django-import-export, preview with row errors).

Every change goes through `hotlead.providers.services`; this module only collects input and confirms.
"""
from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.validators import MaxValueValidator
from django.db import transaction
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from import_export.admin import ImportExportModelAdmin
from unfold.admin import TabularInline
from unfold.contrib.import_export.forms import ExportForm, ImportForm
from unfold.decorators import action, display

from admin_ext.base import ModelAdmin
from hotlead.core.exceptions import ApplicationError
from hotlead.core.services import audit_record
from hotlead.providers import services
from hotlead.providers.enums import AreaKind, ProviderStatus
from hotlead.providers.models import Provider, ServiceArea
from hotlead.providers.resources import ServiceAreaResource
from hotlead.providers.selectors import provider_list_annotated
from hotlead.providers.validators import (
    phone_normalise,
    postal_code_clean,
    postal_prefix_clean,
    timezone_validate,
    webhook_url_validate,
)

STATUS_TEMPLATE = "admin/providers/provider/status_change.html"
LOW_BALANCE_MAX_CENTS = 100_000_000  # the services' limit


def _money(cents: int | None) -> str:
    cents = int(cents or 0)
    return f"{'-' if cents < 0 else ''}${abs(cents) // 100:,}.{abs(cents) % 100:02d}"


class ProviderForm(forms.ModelForm):
    """The editable profile; validated with the same rules as the API."""

    webhook_url = forms.CharField(required=False, max_length=200, label="Webhook URL",
                                  help_text="https:// only; leave empty for none.")

    class Meta:
        model = Provider
        fields = ("company_name", "contact_name", "phone", "timezone", "categories", "notify_assignments",
                  "low_balance_threshold_cents", "webhook_url")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # the service accepts active categories only (a retired one the provider still has is dropped on save)
        from hotlead.leads.models import Category

        self.fields["categories"].queryset = Category.objects.filter(active=True).order_by("name")
        threshold = self.fields["low_balance_threshold_cents"]
        threshold.max_value = LOW_BALANCE_MAX_CENTS
        threshold.validators.append(MaxValueValidator(LOW_BALANCE_MAX_CENTS))
        threshold.widget.attrs["max"] = LOW_BALANCE_MAX_CENTS

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
                    "last_lead", "flagged")
    list_filter = ("status", "flagged", "categories")
    list_filter_submit = True
    search_fields = ("company_name", "contact_name", "user__email", "=id")
    list_per_page = 50
    ordering = ("-id",)
    autocomplete_fields = ()
    filter_horizontal = ("categories",)
    actions_row = ["suspend_row", "reinstate_row"]
    actions_detail = ["suspend_detail", "reinstate_detail"]
    fieldsets = (
        ("Profile", {"fields": ("email", "company_name", "contact_name", "phone", "timezone", "categories",
                                "webhook_url")}),
        ("Notifications", {"fields": ("notify_assignments", "low_balance_threshold_cents")}),
        ("Status", {"fields": ("status_badge", "email_verified_at", "suspended_reason", "suspended_at", "flagged",
                               "flagged_reason")}),
        ("Activity", {"fields": ("balance", "areas_count", "last_lead", "mfa", "created_at")}),
    )
    readonly_fields = ("email", "status_badge", "email_verified_at", "suspended_reason", "suspended_at", "flagged",
                       "flagged_reason", "balance", "areas_count", "last_lead", "mfa", "created_at")

    # --- permissions: providers register themselves; status changes go through the actions ---

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_status_permission(self, request, obj=None):
        return bool(request.user.is_active and request.user.is_staff)

    def get_queryset(self, request):
        return provider_list_annotated()

    # --- columns ---

    @display(description="E-mail", ordering="user__email")
    def email(self, obj):
        return obj.user.email

    @display(description="Status", ordering="status", label={
        ProviderStatus.ACTIVE: "success", ProviderStatus.PENDING_VERIFICATION: "warning",
        ProviderStatus.SUSPENDED: "danger"})
    def status_badge(self, obj):
        return obj.status

    @display(description="Balance", ordering="balance_cents")
    def balance(self, obj):
        return _money(obj.balance_cents)

    @display(description="Categories")
    def categories_list(self, obj):
        return ", ".join(c.name for c in obj.categories.all()) or "—"

    @display(description="Areas", ordering="areas_count")
    def areas_count(self, obj):
        return obj.areas_count

    @display(description="Last lead", ordering="last_assigned_at", empty_value="never")
    def last_lead(self, obj):
        return obj.last_assigned_at

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
            low_balance_threshold_cents=data["low_balance_threshold_cents"], actor=request.user, request=request,
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
            audit_record(action="provider.service_areas_updated", obj=form.instance, request=request,
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
                func(provider_id=provider.pk, reason=reason, actor=request.user, request=request)
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
        try:
            return int(object_id)
        except (TypeError, ValueError):
            raise Http404("No such provider.") from None

    def _changelist_url(self) -> str:
        return reverse("admin:providers_provider_changelist")

    def _detail_url(self, object_id) -> str:
        return reverse("admin:providers_provider_change", args=[self._pk(object_id)])

    @action(description="Suspend", permissions=["status"], icon="block", url_path="suspend-row")
    def suspend_row(self, request, object_id):
        return self._status_change(request, object_id, suspend=True, back_url=self._changelist_url())

    @action(description="Reinstate", permissions=["status"], icon="restart_alt", url_path="reinstate-row")
    def reinstate_row(self, request, object_id):
        return self._status_change(request, object_id, suspend=False, back_url=self._changelist_url())

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
        url = reverse("admin:providers_provider_change", args=[obj.provider_id])
        return format_html('<a href="{}">{}</a>', url, obj.provider)
