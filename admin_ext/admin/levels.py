"""Competition levels (ordered, moved with arrows, archived instead of deleted, price changes confirmed) and
subscriptions (filters, caps, schedule; pause / resume / cancel). Every change goes through
`hotlead.levels.services`; this module asks for confirmation and reports back.
"""
from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Q
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from unfold.decorators import action, display
from unfold.widgets import UnfoldBooleanWidget

from admin_ext.admin.billing import AuditedExportMixin
from admin_ext.base import ModelAdmin, choice_badge
from admin_ext.links import admin_link
from admin_ext.mixins import object_pk
from hotlead.core.exceptions import ApplicationError
from hotlead.core.money import money_format
from hotlead.levels.enums import SubscriptionStatus
from hotlead.levels.models import CompetitionLevel, Subscription
from hotlead.levels.selectors import subscription_status_reason
from hotlead.levels.services.levels import level_archive, level_create, level_errors, level_move, level_update
from hotlead.levels.services.subscriptions import (
    subscription_cancel,
    subscription_errors,
    subscription_pause,
    subscription_resume,
    subscription_update,
)
from reports.resources import LevelHumanResource as CompetitionLevelResource

CONFIRM_TEMPLATE = "admin/levels/confirm.html"


def _confirm(model_admin, request, *, title: str, lines: list[str], back_url: str, label: str, do,
             danger: bool = False):
    """GET shows what will happen; POST with confirm=yes does it (no state change on a GET)."""
    if request.method == "POST" and request.POST.get("confirm") == "yes":
        try:
            message = do()
        except ApplicationError as exc:
            model_admin.message_user(request, exc.message, messages.ERROR)
        else:
            model_admin.message_user(request, message, messages.SUCCESS)
        return HttpResponseRedirect(back_url)
    return TemplateResponse(request, CONFIRM_TEMPLATE, {
        **model_admin.admin_site.each_context(request), "opts": model_admin.model._meta,
        "title": title, "lines": lines, "back_url": back_url, "confirm_label": label,
        "confirm_variant": "danger" if danger else "primary",
    })


def _form_errors(form: forms.Form, errors: list[dict], *, known: set[str]) -> None:
    """Attach SPEC §8 field errors ("filters.1.value", "schedule.end"…) to the form's fields."""
    for error in errors:
        name = error["field"].split(".", 1)[0]
        message = error["message"]
        if flt := error.get("filter"):
            message = f"Filter #{flt['index']} ({flt['field']} {flt['op']}): {message}"
        form.add_error(name if name in known else None, message)


class LevelForm(forms.ModelForm):
    confirm_price_change = forms.BooleanField(
        required=False, widget=UnfoldBooleanWidget,
        label="I confirm the new price",
        help_text="Required when the price changes: it applies to every lead sold from now on, and subscribers "
                  "whose balance no longer covers it stop receiving leads.",
    )

    class Meta:
        model = CompetitionLevel
        fields = ("name", "slug", "rank", "price_cents", "max_recipients", "active")

    def _get_validation_exclusions(self):
        # The service makes room at a taken rank (others move down); the unique rank is not a form error.
        return {*super()._get_validation_exclusions(), "rank"}

    def clean(self):
        data = super().clean()
        level = self.instance if self.instance.pk else None
        errors = level_errors(
            name=data.get("name"), slug=data.get("slug"), rank=data.get("rank"),
            price_cents=data.get("price_cents"), max_recipients=data.get("max_recipients"),
            active=data.get("active", False), exclude_id=level.pk if level else None,
        )
        _form_errors(self, [e for e in errors if e["field"] not in self.errors], known=set(self.fields))
        if level is not None and "price_cents" in self.changed_data and not data.get("confirm_price_change"):
            subscribers = level.subscriptions.exclude(status=SubscriptionStatus.CANCELLED).count()
            self.add_error("confirm_price_change",
                           f"The price changes from {money_format(level.price_cents)} to "
                           f"{money_format(data.get('price_cents'))}"
                           f" for {subscribers} live subscription(s). Tick to confirm.")
        return data


class LiveFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("live", "Live"), ("archived", "Archived")]

    def queryset(self, request, queryset):
        if self.value() == "live":
            return queryset.filter(archived_at__isnull=True)
        if self.value() == "archived":
            return queryset.filter(archived_at__isnull=False)
        return queryset


@admin.register(CompetitionLevel)
class CompetitionLevelAdmin(AuditedExportMixin, ModelAdmin):
    form = LevelForm
    resource_classes = [CompetitionLevelResource]
    list_display = ("rank", "name", "slug", "price", "max_recipients", "active_badge", "subscribers", "archived_at")
    list_display_links = ("name",)
    list_filter = (LiveFilter, "active")
    search_fields = ("name", "slug")
    ordering = ("archived_at", "rank", "id")
    actions_row = ["move_up", "move_down", "archive_row"]
    actions_detail = ["archive_detail"]
    fieldsets = (
        (None, {"fields": ("name", "slug", "rank", "price_cents", "max_recipients", "active",
                           "confirm_price_change")}),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(
            live_subscriptions=Count("subscriptions", filter=~Q(subscriptions__status=SubscriptionStatus.CANCELLED)))

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return ((None, {"fields": ("name", "slug", "rank", "price_cents", "max_recipients", "active")}),)
        return super().get_fieldsets(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False  # "Archive" deletes a level nobody used, and archives the others

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and (obj is None or obj.archived_at is None)

    @display(description="Price", ordering="price_cents")
    def price(self, obj):
        return money_format(obj.price_cents)

    @display(description="Active", label={"active": "success", "inactive": "warning", "archived": "danger"})
    def active_badge(self, obj):
        return "archived" if obj.archived_at else ("active" if obj.active else "inactive")

    @display(description="Live subscriptions", ordering="live_subscriptions")
    def subscribers(self, obj):
        return obj.live_subscriptions

    # --- saving through the services ---

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in ("name", "slug", "rank", "price_cents", "max_recipients",
                                                           "active")}
        if change:
            level = level_update(level_id=obj.pk, actor=request.user, **data)
        else:
            level = level_create(actor=request.user, **data)
        obj.pk = level.pk
        obj.refresh_from_db()

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ApplicationError as exc:  # e.g. a concurrent change; nothing was saved
            self.message_user(request, exc.message, messages.ERROR)
            return HttpResponseRedirect(request.path)

    # --- ordering ---

    def _move(self, request, object_id, steps: int):
        level = CompetitionLevel.objects.filter(pk=object_pk(object_id), archived_at__isnull=True).first()
        if level is None:
            raise Http404("No such competition level.")
        direction = "up" if steps < 0 else "down"

        def do() -> str:
            level_move(level_id=level.pk, steps=steps, actor=request.user)
            return f"{level.name} moved {direction}."

        return _confirm(self, request, title=f"Move {level.name} {direction}?",
                        lines=[f"{level.name} is at rank {level.rank}; levels are tried in rank order for every lead."],
                        back_url=reverse("admin:levels_competitionlevel_changelist"), label=f"Yes, move {direction}",
                        do=do)

    @action(description="Move up", icon="arrow_upward", url_path="move-up")
    def move_up(self, request, object_id):
        return self._move(request, object_id, -1)

    @action(description="Move down", icon="arrow_downward", url_path="move-down")
    def move_down(self, request, object_id):
        return self._move(request, object_id, 1)

    # --- archive (or delete when unused), with confirmation ---

    def _archive(self, request, object_id, *, back_url: str):
        level = CompetitionLevel.objects.filter(pk=object_pk(object_id), archived_at__isnull=True).first()
        if level is None:
            raise Http404("No such competition level.")
        live = level.subscriptions.exclude(status=SubscriptionStatus.CANCELLED).count()
        used = level.subscriptions.exists() or level.assignments.exists()
        lines = [f"{level.name} ({money_format(level.price_cents)}, rank {level.rank}) stops selling leads."]
        if used:
            lines += ["It has subscriptions or sales, so it is archived (kept for history), not deleted.",
                      f"{live} live subscription(s) at this level will be cancelled."]
        else:
            lines.append("Nothing ever used it, so it is deleted.")

        def do() -> str:
            outcome = level_archive(level_id=level.pk, actor=request.user)
            return f"{level.name} was {outcome}."

        response = _confirm(self, request, title=f"Archive the level {level.name}?", lines=lines, back_url=back_url,
                            label="Yes, archive" if used else "Yes, delete", do=do, danger=True)
        if isinstance(response, HttpResponseRedirect) and not CompetitionLevel.objects.filter(
                pk=level.pk, archived_at__isnull=True).exists():
            return HttpResponseRedirect(reverse("admin:levels_competitionlevel_changelist"))
        return response

    @action(description="Archive", icon="archive", url_path="archive-row")
    def archive_row(self, request, object_id):
        return self._archive(request, object_id, back_url=reverse("admin:levels_competitionlevel_changelist"))

    @action(description="Archive", icon="archive", url_path="archive")
    def archive_detail(self, request, object_id):
        return self._archive(request, object_id,
                             back_url=reverse("admin:levels_competitionlevel_change", args=[object_id]))


class SubscriptionForm(forms.ModelForm):
    class Meta:
        model = Subscription
        fields = ("filters", "daily_cap", "weekly_cap", "monthly_cap", "monthly_budget_cents", "schedule")
        help_texts = {
            "filters": 'A list of {"field", "op", "value"}, e.g. [{"field": "budget_cents", "op": "gte", '
                       '"value": 50000}]. Fields: category, postal_code, budget_cents, timeline, source.',
            "schedule": 'e.g. {"days": [0, 1, 2, 3, 4], "start": "08:00", "end": "18:00"} in the provider\'s time '
                        "zone; null = any time.",
        }

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        errors, clean = subscription_errors(level=self.instance.level, values=data)
        _form_errors(self, errors, known=set(self.fields))
        if not errors:
            data.update(clean)
        return data


@admin.register(Subscription)
class SubscriptionAdmin(ModelAdmin):
    form = SubscriptionForm
    list_display = ("id", "provider_link", "level", "status_badge", "caps", "budget", "filters_count",
                    "last_served_at", "created_at")
    list_filter = ("status", "level")
    search_fields = ("=id", "provider__company_name", "provider__user__email")
    list_select_related = ("provider", "level")
    ordering = ("-created_at", "-id")
    actions_row = ["pause_row", "resume_row", "cancel_row"]
    actions_detail = ["pause_detail", "resume_detail", "cancel_detail"]
    readonly_fields = ("provider_link", "level", "status_badge", "status_reason", "last_served_at", "paused_at",
                       "cancelled_at", "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("provider_link", "level", "status_badge", "status_reason")}),
        ("Filters and limits", {"fields": ("filters", "daily_cap", "weekly_cap", "monthly_cap",
                                           "monthly_budget_cents", "schedule")}),
        ("History", {"fields": ("last_served_at", "paused_at", "cancelled_at", "created_at", "updated_at")}),
    )

    def has_add_permission(self, request):
        return False  # providers subscribe themselves (portal or API)

    def has_delete_permission(self, request, obj=None):
        return False  # "Cancel" keeps the history

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and (
            obj is None or obj.status != SubscriptionStatus.CANCELLED)

    @display(description="Provider")
    def provider_link(self, obj):
        return admin_link("admin:providers_provider_change", obj.provider_id, label=obj.provider)

    @display(description="Status", label={SubscriptionStatus.ACTIVE: "success", SubscriptionStatus.PAUSED: "info",
                                          SubscriptionStatus.INACTIVE_FUNDS: "warning",
                                          SubscriptionStatus.CANCELLED: "danger"})
    def status_badge(self, obj):
        return choice_badge(obj, "status")

    @display(description="What it means")
    def status_reason(self, obj):
        return subscription_status_reason(obj)

    @display(description="Caps (day / week / month)")
    def caps(self, obj):
        return " / ".join("—" if cap is None else str(cap) for cap in (obj.daily_cap, obj.weekly_cap, obj.monthly_cap))

    @display(description="Monthly budget")
    def budget(self, obj):
        return money_format(obj.monthly_budget_cents)

    @display(description="Filters")
    def filters_count(self, obj):
        return len(obj.filters or [])

    def save_model(self, request, obj, form, change):
        changes = {name: form.cleaned_data[name] for name in form.changed_data}
        subscription_update(subscription_id=obj.pk, changes=changes, actor=request.user)
        obj.refresh_from_db()

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ApplicationError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return HttpResponseRedirect(request.path)

    # --- status actions ---

    def _subscription(self, object_id) -> Subscription:
        subscription = Subscription.objects.select_related("provider", "level").filter(pk=object_pk(object_id)) \
            .first()
        if subscription is None:
            raise Http404("No such subscription.")
        return subscription

    def _status(self, request, object_id, verb: str, *, back_url: str):
        subscription = self._subscription(object_id)
        service = {"pause": subscription_pause, "resume": subscription_resume}[verb]

        def do() -> str:
            changed = service(subscription_id=subscription.pk, actor=request.user)
            return f"Subscription #{changed.pk}: {subscription_status_reason(changed)}"

        lines = (["The provider stops receiving leads at this level from the very next lead."] if verb == "pause" else
                 ["The subscription becomes active if the provider's balance covers the level's price, "
                  "otherwise inactive until it does."])
        return _confirm(self, request, title=f"{verb.title()} {subscription.provider}'s subscription at "
                                             f"{subscription.level.name}?",
                        lines=lines, back_url=back_url, label=f"Yes, {verb}", do=do)

    def _cancel(self, request, object_id, *, back_url: str):
        subscription = self._subscription(object_id)

        def do() -> str:
            subscription_cancel(subscription_id=subscription.pk, actor=request.user)
            return f"Subscription #{subscription.pk} is cancelled."

        return _confirm(self, request, title=f"Cancel {subscription.provider}'s subscription at "
                                             f"{subscription.level.name}?",
                        lines=["The provider stops receiving leads at this level at once.",
                               "A cancelled subscription cannot be resumed; the provider can subscribe again."],
                        back_url=back_url, label="Yes, cancel it", do=do, danger=True)

    def _list_url(self):
        return reverse("admin:levels_subscription_changelist")

    def _detail_url(self, object_id):
        return reverse("admin:levels_subscription_change", args=[object_id])

    @action(description="Pause", icon="pause", url_path="pause-row")
    def pause_row(self, request, object_id):
        return self._status(request, object_id, "pause", back_url=self._list_url())

    @action(description="Resume", icon="play_arrow", url_path="resume-row")
    def resume_row(self, request, object_id):
        return self._status(request, object_id, "resume", back_url=self._list_url())

    @action(description="Cancel", icon="cancel", url_path="cancel-row")
    def cancel_row(self, request, object_id):
        return self._cancel(request, object_id, back_url=self._list_url())

    @action(description="Pause", icon="pause", url_path="pause")
    def pause_detail(self, request, object_id):
        return self._status(request, object_id, "pause", back_url=self._detail_url(object_id))

    @action(description="Resume", icon="play_arrow", url_path="resume")
    def resume_detail(self, request, object_id):
        return self._status(request, object_id, "resume", back_url=self._detail_url(object_id))

    @action(description="Cancel", icon="cancel", url_path="cancel")
    def cancel_detail(self, request, object_id):
        return self._cancel(request, object_id, back_url=self._detail_url(object_id))
