"""Lead sources (SPEC §8.2) and rate-limit overrides (SPEC §12) in the console.

Creating a source or rotating its key shows the key on the page that answers the POST — once, never stored
in a message or a cookie. Every change goes through `hotlead.sources.services` / `hotlead.core.services`.
"""
from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.db.models import Count
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from unfold.decorators import action, display

from admin_ext.base import ModelAdmin
from admin_ext.links import admin_url
from hotlead.core.exceptions import ApplicationError, Conflict, ValidationFailed
from hotlead.core.models import RateLimitOverride
from hotlead.core.ratelimit import RULE_RE
from hotlead.core.services import rate_limit_override_delete, rate_limit_override_set
from hotlead.sources import services
from hotlead.sources.models import LeadSource

KEY_TEMPLATE = "admin/sources/key.html"
CONFIRM_TEMPLATE = "admin/levels/confirm.html"


def lead_source_summary(lead) -> str:
    """The lead page's "Lead source" line: which partner posted it, and whether our e-mail check was skipped."""
    source = lead.lead_source
    if source is None:
        return "— (public form or API without a key)"
    url = admin_url("admin:sources_leadsource_change", source.pk)
    if source.verified_upstream:
        return format_html('<a href="{}">{}</a> — <strong>verified upstream</strong>: the partner verified the '
                           "e-mail; our e-mail verification was skipped and the lead went straight to review.",
                           url, source.name)
    return format_html('<a href="{}">{}</a> (e-mail verified by Hot Lead)', url, source.name)


def _form_errors(form: forms.Form, exc: ApplicationError) -> None:
    fields = exc.details.get("fields", []) if isinstance(exc.details, dict) else []
    for item in fields:
        field = item.get("field")
        form.add_error(field if field in form.fields else None, item.get("message", exc.message))
    if not fields:
        form.add_error(None, exc.message)


class LeadSourceForm(forms.ModelForm):
    class Meta:
        model = LeadSource
        fields = ("name", "contact", "notes", "verified_upstream", "rate_limit")

    def _post_clean(self):
        # the service validates and writes; the model's own validation would repeat it
        pass


@admin.register(LeadSource)
class LeadSourceAdmin(ModelAdmin):
    form = LeadSourceForm
    list_display = ("name", "key_prefix", "verified_badge", "status_badge", "leads_count", "created_at")
    list_filter = ("verified_upstream",)
    search_fields = ("name", "contact", "key_prefix")
    readonly_fields = ("key_prefix", "key_rotated_at", "revoked_at", "created_at", "created_by")
    actions_detail = ["rotate_key_detail", "revoke_detail"]

    def get_fieldsets(self, request, obj=None):
        main = ("name", "contact", "notes", "verified_upstream", "rate_limit")
        if obj is None:
            return ((None, {"fields": main}),)
        return ((None, {"fields": main}),
                ("Key", {"fields": ("key_prefix", "key_rotated_at", "revoked_at", "created_at", "created_by")}))

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(leads_total=Count("leads"))

    def has_delete_permission(self, request, obj=None):
        return False  # leads point at their source: revoke instead

    @display(description="Verified upstream", label={"yes": "success", "no": "info"})
    def verified_badge(self, obj):
        return "yes" if obj.verified_upstream else "no"

    @display(description="Status", label={"active": "success", "revoked": "danger"})
    def status_badge(self, obj):
        return "active" if obj.revoked_at is None else "revoked"

    @display(description="Leads", ordering="leads_total")
    def leads_count(self, obj):
        return obj.leads_total

    # --- create and edit through the services; the key page answers the POST that made the key ---

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if request.method != "POST":
            return super().changeform_view(request, object_id, form_url, extra_context)
        obj = None
        if object_id is not None:
            obj = self.get_object(request, object_id)
            if obj is None:
                raise Http404("No such lead source.")
            if not self.has_change_permission(request, obj):
                return super().changeform_view(request, object_id, form_url, extra_context)
        elif not self.has_add_permission(request):
            return super().changeform_view(request, object_id, form_url, extra_context)
        form = LeadSourceForm(request.POST, instance=obj)
        if form.is_valid():
            data = form.cleaned_data
            try:
                if obj is None:
                    source, key = services.lead_source_create(
                        name=data["name"], contact=data["contact"], notes=data["notes"],
                        verified_upstream=data["verified_upstream"], rate_limit=data["rate_limit"],
                        actor=request.user)
                    return self._key_page(request, source, key, title=f"Lead source {source.name} created")
                services.lead_source_update(
                    source_id=obj.pk, name=data["name"], contact=data["contact"], notes=data["notes"],
                    verified_upstream=data["verified_upstream"], rate_limit=data["rate_limit"],
                    actor=request.user)
                self.message_user(request, f"Lead source {data['name']} saved.", messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:sources_leadsource_changelist"))
            except (ValidationFailed, Conflict) as exc:
                _form_errors(form, exc)
        return self._render_form(request, form, obj)

    def _render_form(self, request, form, obj):
        fieldsets = self.get_fieldsets(request, obj)
        admin_form = admin.helpers.AdminForm(form, list(fieldsets), {}, self.get_readonly_fields(request, obj),
                                             model_admin=self)
        context = {
            **self.admin_site.each_context(request),
            "title": "Add lead source" if obj is None else f"Change lead source {obj.name}",
            "adminform": admin_form, "object_id": getattr(obj, "pk", None), "original": obj,
            "is_popup": False, "to_field": None, "media": self.media + admin_form.media,
            "inline_admin_formsets": [], "errors": admin.helpers.AdminErrorList(form, []),
            "preserved_filters": self.get_preserved_filters(request),
        }
        return self.render_change_form(request, context, add=obj is None, change=obj is not None, obj=obj)

    def _key_page(self, request, source, key, *, title):
        return TemplateResponse(request, KEY_TEMPLATE, {
            **self.admin_site.each_context(request), "opts": self.model._meta, "title": title,
            "source": source, "api_key": key,
            "back_url": reverse("admin:sources_leadsource_change", args=[source.pk]),
        })

    # --- rotate and revoke: confirmation on GET, the change on POST ---

    def _source(self, object_id) -> LeadSource:
        try:
            source = LeadSource.objects.filter(pk=int(object_id)).first()
        except (TypeError, ValueError):
            source = None
        if source is None:
            raise Http404("No such lead source.")
        return source

    def _confirm_page(self, request, source, *, title, lines, label, danger):
        return TemplateResponse(request, CONFIRM_TEMPLATE, {
            **self.admin_site.each_context(request), "opts": self.model._meta, "title": title, "lines": lines,
            "back_url": reverse("admin:sources_leadsource_change", args=[source.pk]), "confirm_label": label,
            "confirm_variant": "danger" if danger else "primary",
        })

    @action(description="Rotate key", icon="autorenew", url_path="rotate-key")
    def rotate_key_detail(self, request, object_id):
        source = self._source(object_id)
        if request.method == "POST" and request.POST.get("confirm") == "yes":
            try:
                source, key = services.lead_source_rotate_key(source_id=source.pk, actor=request.user)
            except ApplicationError as exc:
                self.message_user(request, exc.message, messages.ERROR)
                return HttpResponseRedirect(reverse("admin:sources_leadsource_change", args=[source.pk]))
            return self._key_page(request, source, key, title=f"New key for {source.name}")
        return self._confirm_page(request, source, title=f"Rotate the key of {source.name}?", lines=[
            f"The current key ({source.key_prefix}…) stops working at once.",
            "The new key is shown once on the next page.",
        ], label="Rotate key", danger=False)

    @action(description="Revoke", icon="block", url_path="revoke")
    def revoke_detail(self, request, object_id):
        source = self._source(object_id)
        if request.method == "POST" and request.POST.get("confirm") == "yes":
            services.lead_source_revoke(source_id=source.pk, actor=request.user)
            self.message_user(request, f"{source.name} is revoked: its key no longer works.", messages.SUCCESS)
            return HttpResponseRedirect(reverse("admin:sources_leadsource_change", args=[source.pk]))
        return self._confirm_page(request, source, title=f"Revoke {source.name}?", lines=[
            f"Its key ({source.key_prefix}…) stops working for good; its leads keep their source.",
            "A revoked source cannot be given a new key: create a new source instead.",
        ], label="Revoke", danger=True)


# --- rate limits (SPEC §12) -------------------------------------------------------------------------

class RateLimitOverrideForm(forms.ModelForm):
    scope = forms.ChoiceField(choices=())

    class Meta:
        model = RateLimitOverride
        fields = ("scope", "rule", "note")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        limits = settings.HOTLEAD["RATE_LIMITS"]
        self.fields["scope"].choices = [(s, f"{s} (default {limits[s]})") for s in sorted(limits)]

    def clean_rule(self):
        rule = (self.cleaned_data.get("rule") or "").strip()
        if not RULE_RE.match(rule):
            raise forms.ValidationError("Use count/seconds, e.g. 10/3600.")
        return rule

    def _post_clean(self):
        pass


@admin.register(RateLimitOverride)
class RateLimitOverrideAdmin(ModelAdmin):
    form = RateLimitOverrideForm
    list_display = ("scope", "rule", "default_rule", "note", "updated_by", "updated_at")

    @display(description="Default (settings / HOTLEAD_RATE_LIMITS)")
    def default_rule(self, obj):
        return settings.HOTLEAD["RATE_LIMITS"].get(obj.scope, "—")

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        saved = rate_limit_override_set(scope=data["scope"], rule=data["rule"], note=data.get("note") or "",
                                        actor=request.user)
        obj.pk = saved.pk

    def delete_model(self, request, obj):
        rate_limit_override_delete(override_id=obj.pk, actor=request.user)

    def delete_queryset(self, request, queryset):
        for override in queryset:
            rate_limit_override_delete(override_id=override.pk, actor=request.user)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ValidationFailed as exc:
            self.message_user(request, "; ".join(f["message"] for f in exc.details.get("fields", [])) or exc.message,
                              messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())
