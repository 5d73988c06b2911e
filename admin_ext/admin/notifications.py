"""E-mail events: every message the product sent or tried to send (read-only), and a resend for failed ones."""
from __future__ import annotations

import json

from django.contrib import admin
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from unfold.decorators import action, display

from admin_ext.base import ModelAdmin, choice_badge
from admin_ext.mixins import ReadOnlyAdminMixin, confirmation_context, object_pk, run_each
from hotlead.notifications import services
from hotlead.notifications.models import EmailEvent, EmailStatus

RESEND_TEMPLATE = "admin/notifications/emailevent/resend.html"


def _context_for_display(context: dict) -> dict:
    """Sealed values (codes, links with tokens) are never shown, even sealed."""
    return {key: ("(sealed)" if key.endswith("_sealed") else value) for key, value in (context or {}).items()}


@admin.register(EmailEvent)
class EmailEventAdmin(ReadOnlyAdminMixin, ModelAdmin):
    list_display = ("id", "created_at", "template", "to", "status_badge", "attempts", "sent_at", "error_short")
    list_filter = ("status", "template")
    search_fields = ("to", "template", "related_id")
    date_hierarchy = "created_at"
    list_per_page = 50
    fields = ("template", "to", "subject", "status", "attempts", "error", "created_at", "sent_at", "updated_at",
              "related_type", "related_id", "dedupe_key", "context_block")
    readonly_fields = fields
    actions = ["resend_selected"]
    actions_row = ["resend_row"]
    actions_detail = ["resend_detail"]

    def has_resend_permission(self, request, obj=None):
        return request.user.has_perm("notifications.change_emailevent")

    @display(description="Status", label={EmailStatus.QUEUED: "info", EmailStatus.SENT: "success",
                                          EmailStatus.SENDING: "warning", EmailStatus.FAILED: "danger"})
    def status_badge(self, obj):
        return choice_badge(obj, "status")

    @display(description="Error")
    def error_short(self, obj):
        return (obj.error or "—")[:100]

    @display(description="Context")
    def context_block(self, obj):
        return format_html("<pre style=\"white-space: pre-wrap;\">{}</pre>",
                           json.dumps(_context_for_display(obj.context), indent=2, ensure_ascii=False))

    def _resend(self, request, ids: list[int], *, back_url: str, bulk_action: str = ""):
        events = list(EmailEvent.objects.filter(pk__in=ids).order_by("id"))
        if not events:
            raise Http404("No such e-mail.")
        if request.method == "POST" and request.POST.get("confirm") == "yes":
            run_each(self, request, events, lambda event: services.email_resend(event_id=event.pk, actor=request.user),
                     done_verb="Queued again", refused_prefix="Not sent again")
            return HttpResponseRedirect(back_url)
        context = confirmation_context(
            self, request, selected=events, back_url=back_url, bulk_action=bulk_action,
            title=f"Send {len(events)} e-mail{'s' if len(events) != 1 else ''} again?",
            events=events, failed_count=sum(1 for e in events if e.status == EmailStatus.FAILED),
        )
        return TemplateResponse(request, RESEND_TEMPLATE, context)

    def _changelist_url(self) -> str:
        return reverse("admin:notifications_emailevent_changelist")

    @staticmethod
    def _pk(object_id) -> int:
        return object_pk(object_id, not_found="No such e-mail.")

    @action(description="Send again", permissions=["resend"], icon="forward_to_inbox", url_path="resend-row")
    def resend_row(self, request, object_id):
        return self._resend(request, [self._pk(object_id)], back_url=self._changelist_url())

    @action(description="Send again", permissions=["resend"], icon="forward_to_inbox", url_path="resend")
    def resend_detail(self, request, object_id):
        return self._resend(request, [self._pk(object_id)],
                            back_url=reverse("admin:notifications_emailevent_change", args=[object_id]))

    @action(description="Send the selected failed e-mails again", permissions=["resend"])
    def resend_selected(self, request, queryset):
        return self._resend(request, list(queryset.values_list("pk", flat=True)),
                            back_url=self._changelist_url(), bulk_action="resend_selected")
