"""Webhooks in the console (Operations): endpoints (enable again, send a test event) and the delivery log
(filters, attempts, Replay). Secrets are never shown. Every change goes through `hotlead.webhooks.services`."""
from __future__ import annotations

from django.contrib import admin
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from unfold.decorators import action, display

from admin_ext.base import ModelAdmin, choice_badge
from admin_ext.mixins import ReadOnlyAdminMixin, confirmation_context, object_pk, run_each
from hotlead.webhooks import services
from hotlead.webhooks.enums import DeliveryStatus
from hotlead.webhooks.models import WebhookDelivery, WebhookEndpoint

CONFIRM_TEMPLATE = "admin/webhooks/confirm.html"


class _Confirmed:
    """One "Are you sure?" page for row, detail and bulk actions; `run(obj)` calls the service."""

    def _confirm(self, request, ids: list[int], *, title: str, explain: str, confirm_label: str, run, done_verb: str,
                 back_url: str, bulk_action: str = ""):
        rows = list(self.model.objects.filter(pk__in=ids).order_by("id"))
        if not rows:
            raise Http404("Not found.")
        if request.method == "POST" and request.POST.get("confirm") == "yes":
            run_each(self, request, rows, run, done_verb=done_verb, refused_prefix="Not done")
            return HttpResponseRedirect(back_url)
        context = confirmation_context(self, request, selected=rows, back_url=back_url, bulk_action=bulk_action,
                                       title=title, rows=rows, explain=explain, confirm_label=confirm_label)
        return TemplateResponse(request, CONFIRM_TEMPLATE, context)


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(_Confirmed, ReadOnlyAdminMixin, ModelAdmin):
    list_display = ("provider", "url", "enabled_badge", "events_list", "consecutive_failures", "disabled_at")
    list_filter = ("enabled",)
    search_fields = ("provider__company_name", "url")
    list_select_related = ("provider",)
    fields = ("provider", "url", "enabled", "events", "consecutive_failures", "disabled_at", "disabled_reason",
              "previous_secret_expires_at", "created_at", "updated_at")
    readonly_fields = fields
    actions = ["enable_selected"]
    actions_row = ["enable_row", "test_row"]
    actions_detail = ["enable_detail", "test_detail"]

    def has_manage_permission(self, request, obj=None):
        return request.user.has_perm("webhooks.view_webhookendpoint") or request.user.is_superuser

    @display(description="Enabled", label={"yes": "success", "no": "danger"})
    def enabled_badge(self, obj):
        return "yes" if obj.enabled else "no"

    @display(description="Events")
    def events_list(self, obj):
        return ", ".join(obj.events) or "—"

    def _enable(self, request, ids, back_url, bulk_action=""):
        return self._confirm(
            request, ids, title="Enable these webhook endpoints again?", confirm_label="Yes, enable",
            explain="Deliveries start again and the failure count starts over. Missed events can be replayed "
                    "from the delivery log.",
            run=lambda e: services.webhook_endpoint_enable(provider_id=e.provider_id, actor=request.user),
            done_verb="Enabled", back_url=back_url, bulk_action=bulk_action)

    def _test(self, request, ids, back_url):
        return self._confirm(
            request, ids, title="Send a test event?", confirm_label="Yes, send", explain="A webhook.test event "
            "is delivered now; it appears in the delivery log.",
            run=lambda e: services.webhook_test_send(provider_id=e.provider_id, actor=request.user),
            done_verb="Test event queued", back_url=back_url)

    def _list(self):
        return reverse("admin:webhooks_webhookendpoint_changelist")

    @action(description="Enable again", permissions=["manage"], icon="power", url_path="enable-row")
    def enable_row(self, request, object_id):
        return self._enable(request, [object_pk(object_id)], self._list())

    @action(description="Enable again", permissions=["manage"], icon="power", url_path="enable")
    def enable_detail(self, request, object_id):
        return self._enable(request, [object_pk(object_id)],
                            reverse("admin:webhooks_webhookendpoint_change", args=[object_id]))

    @action(description="Send test event", permissions=["manage"], icon="send", url_path="test-row")
    def test_row(self, request, object_id):
        return self._test(request, [object_pk(object_id)], self._list())

    @action(description="Send test event", permissions=["manage"], icon="send", url_path="test")
    def test_detail(self, request, object_id):
        return self._test(request, [object_pk(object_id)], reverse("admin:webhooks_webhookendpoint_change",
                                                             args=[object_id]))

    @action(description="Enable the selected endpoints again", permissions=["manage"])
    def enable_selected(self, request, queryset):
        return self._enable(request, list(queryset.values_list("pk", flat=True)), self._list(),
                            bulk_action="enable_selected")


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(_Confirmed, ReadOnlyAdminMixin, ModelAdmin):
    list_display = ("id", "created_at", "provider", "event_type", "event_id", "status_badge", "attempts",
                    "last_status_code", "next_attempt_at", "last_error")
    list_filter = ("status", "event__type", "created_at")
    search_fields = ("event__msg_id", "provider__company_name")
    list_select_related = ("provider", "event")
    show_full_result_count = False
    list_per_page = 50
    ordering = ("-id",)
    fields = ("provider", "event_id", "event_type", "status", "attempts", "next_attempt_at", "last_status_code",
              "last_error", "replay_of", "created_at", "finished_at", "attempt_log", "body")
    readonly_fields = fields
    actions = ["replay_selected"]
    actions_row = ["replay_row"]
    actions_detail = ["replay_detail"]

    def has_manage_permission(self, request, obj=None):
        return request.user.has_perm("webhooks.view_webhookdelivery") or request.user.is_superuser

    @display(description="Event")
    def event_type(self, obj):
        return obj.event.type

    @display(description="Event id (webhook-id)")
    def event_id(self, obj):
        return obj.event.msg_id

    @display(description="Status", label={DeliveryStatus.SUCCEEDED: "success", DeliveryStatus.RETRYING: "warning",
                                          DeliveryStatus.PENDING: "info", DeliveryStatus.DEAD: "danger",
                                          DeliveryStatus.CANCELLED: "default"})
    def status_badge(self, obj):
        return choice_badge(obj, "status")

    @display(description="Attempts")
    def attempt_log(self, obj):
        rows = obj.attempt_set.all()
        if not rows:
            return "—"
        row = ("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
               "<td><pre style='white-space:pre-wrap;max-height:8rem;overflow:auto'>{}</pre></td></tr>")
        body = format_html_join("", row, ((a.number, f"{a.started_at:%Y-%m-%d %H:%M:%S}", a.outcome,
                                           a.status_code or "—", a.latency_ms, a.error or "—", a.response_body)
                                          for a in rows))
        return format_html("<table><tr><th>#</th><th>At</th><th>Outcome</th><th>HTTP</th><th>ms</th><th>Error</th>"
                           "<th>Answer (first 4 KB)</th></tr>{}</table>", body)

    @display(description="Body sent")
    def body(self, obj):
        return format_html('<pre style="white-space: pre-wrap; max-height: 30rem; overflow: auto;">{}</pre>',
                           obj.event.body)

    def _replay(self, request, ids, back_url, bulk_action=""):
        return self._confirm(
            request, ids, title="Replay these deliveries?", confirm_label="Yes, replay",
            explain="Each event is delivered again as a new delivery with the same webhook-id and body, so the "
                    "provider's receiver can deduplicate it.",
            run=lambda d: services.webhook_delivery_replay(delivery_id=d.pk, provider_id=None, actor=request.user),
            done_verb="Replay queued", back_url=back_url, bulk_action=bulk_action)

    def _list(self):
        return reverse("admin:webhooks_webhookdelivery_changelist")

    @action(description="Replay", permissions=["manage"], icon="replay", url_path="replay-row")
    def replay_row(self, request, object_id):
        return self._replay(request, [object_pk(object_id)], self._list())

    @action(description="Replay", permissions=["manage"], icon="replay", url_path="replay")
    def replay_detail(self, request, object_id):
        return self._replay(request, [object_pk(object_id)], reverse("admin:webhooks_webhookdelivery_change",
                                                               args=[object_id]))

    @action(description="Replay the selected deliveries", permissions=["manage"])
    def replay_selected(self, request, queryset):
        return self._replay(request, list(queryset.values_list("pk", flat=True)), self._list(),
                            bulk_action="replay_selected")
