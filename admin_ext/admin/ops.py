"""Operations: the dead-letter queue (retry/resolve with confirmation) and django-q2's pages in unfold's style.

Every decision goes through `hotlead.ops.services`; this module asks for confirmation and reports back.
"""
from __future__ import annotations

import django_q.admin as q2_admin  # registers django-q2's admins first, so they can be replaced below
from django.contrib import admin
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django_q.conf import Conf
from django_q.models import Failure, OrmQ, Schedule, Success
from unfold.decorators import action, display

from admin_ext.base import ModelAdmin, choice_badge
from admin_ext.mixins import ReadOnlyAdminMixin, confirmation_context, object_pk, run_each
from hotlead.ops import services
from hotlead.ops.models import DeadLetter, DeadLetterStatus, WorkerHeartbeat

CONFIRM_TEMPLATE = "admin/ops/deadletter/confirm.html"


@admin.register(DeadLetter)
class DeadLetterAdmin(ReadOnlyAdminMixin, ModelAdmin):
    list_display = ("id", "task_name", "status_badge", "attempts", "retry_count", "last_failed_at", "error_summary")
    list_filter = ("status", "task_name")
    search_fields = ("func", "task_id", "error")
    date_hierarchy = "last_failed_at"
    list_per_page = 50
    ordering = ("-last_failed_at", "-id")
    fields = ("func", "task_id", "status", "attempts", "retry_count", "first_failed_at", "last_failed_at",
              "retried_at", "resolved_at", "args", "kwargs", "error_block", "note")
    readonly_fields = fields
    actions = ["retry_selected", "resolve_selected"]
    actions_row = ["retry_row", "resolve_row"]
    actions_detail = ["retry_detail", "resolve_detail"]

    # Rows change only through the services (audited); cleanup deletes resolved ones.
    def has_decide_permission(self, request, obj=None):
        return request.user.has_perm("ops.change_deadletter")

    @display(description="Status", label={DeadLetterStatus.OPEN: "danger", DeadLetterStatus.RETRIED: "warning",
                                          DeadLetterStatus.RESOLVED: "success"})
    def status_badge(self, obj):
        return choice_badge(obj, "status")

    @display(description="Error")
    def error_summary(self, obj):
        lines = [line for line in (obj.error or "").strip().splitlines() if line.strip()]
        return (lines[-1][:120]) if lines else "—"

    @display(description="Error")
    def error_block(self, obj):
        return format_html('<pre style="white-space: pre-wrap; max-height: 30rem; overflow: auto;">{}</pre>',
                           obj.error or "—")

    # --- one confirmation page for row, detail and bulk actions ---

    def _decide(self, request, ids: list[int], *, retry: bool, back_url: str, bulk_action: str = ""):
        rows = list(DeadLetter.objects.filter(pk__in=ids).order_by("id"))
        if not rows:
            raise Http404("No such failed job.")
        note = (request.POST.get("note") or "").strip()[:2000]
        if request.method == "POST" and request.POST.get("confirm") == "yes":
            if retry:
                run_each(self, request, rows, lambda row: services.dead_letter_retry(
                    dead_letter_id=row.pk, actor=request.user), done_verb="Queued again", refused_prefix="Not changed")
            else:
                run_each(self, request, rows, lambda row: services.dead_letter_resolve(
                    dead_letter_id=row.pk, actor=request.user, note=note), done_verb="Resolved",
                    refused_prefix="Not changed")
            return HttpResponseRedirect(back_url)
        actionable = [r for r in rows if r.status != DeadLetterStatus.RESOLVED]
        context = confirmation_context(
            self, request, selected=rows, back_url=back_url, bulk_action=bulk_action,
            title=f"{'Retry' if retry else 'Resolve'} {len(rows)} failed job{'s' if len(rows) != 1 else ''}?",
            retry=retry, rows=rows, actionable_count=len(actionable), note=note,
        )
        return TemplateResponse(request, CONFIRM_TEMPLATE, context)

    @staticmethod
    def _pk(object_id) -> int:
        return object_pk(object_id, not_found="No such failed job.")

    def _changelist_url(self) -> str:
        return reverse("admin:ops_deadletter_changelist")

    def _detail_url(self, object_id) -> str:
        return reverse("admin:ops_deadletter_change", args=[object_id])

    @action(description="Retry", permissions=["decide"], icon="replay", url_path="retry-row")
    def retry_row(self, request, object_id):
        return self._decide(request, [self._pk(object_id)], retry=True, back_url=self._changelist_url())

    @action(description="Resolve", permissions=["decide"], icon="task_alt", url_path="resolve-row")
    def resolve_row(self, request, object_id):
        return self._decide(request, [self._pk(object_id)], retry=False, back_url=self._changelist_url())

    @action(description="Retry", permissions=["decide"], icon="replay", url_path="retry")
    def retry_detail(self, request, object_id):
        return self._decide(request, [self._pk(object_id)], retry=True, back_url=self._detail_url(object_id))

    @action(description="Resolve", permissions=["decide"], icon="task_alt", url_path="resolve")
    def resolve_detail(self, request, object_id):
        return self._decide(request, [self._pk(object_id)], retry=False, back_url=self._detail_url(object_id))

    @action(description="Retry the selected failed jobs", permissions=["decide"])
    def retry_selected(self, request, queryset):
        return self._decide(request, list(queryset.values_list("pk", flat=True)), retry=True,
                            back_url=self._changelist_url(), bulk_action="retry_selected")

    @action(description="Resolve the selected failed jobs", permissions=["decide"])
    def resolve_selected(self, request, queryset):
        return self._decide(request, list(queryset.values_list("pk", flat=True)), retry=False,
                            back_url=self._changelist_url(), bulk_action="resolve_selected")


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(ModelAdmin):
    list_display = ("name", "pid", "seen_at")
    readonly_fields = ("name", "pid", "seen_at")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


# --- django-q2's admins, re-registered in unfold's style (same behaviour, one look) -------------

for model in (Schedule, Success, Failure, OrmQ):
    if admin.site.is_registered(model):
        admin.site.unregister(model)


@admin.register(Schedule)
class ScheduleAdmin(q2_admin.ScheduleAdmin, ModelAdmin):
    pass


@admin.register(Success)
class SuccessAdmin(q2_admin.TaskAdmin, ModelAdmin):
    pass


@admin.register(Failure)
class FailureAdmin(q2_admin.FailAdmin, ModelAdmin):
    pass


if Conf.ORM or Conf.TESTING:

    @admin.register(OrmQ)
    class QueueAdmin(q2_admin.QueueAdmin, ModelAdmin):
        pass
