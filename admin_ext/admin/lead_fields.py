"""The lead in the console: its list columns and the read-only fields of its page's four tabs."""
from __future__ import annotations

from functools import wraps

from django.utils import timezone
from django.utils.html import format_html, format_html_join
from unfold.decorators import display

from admin_ext.links import admin_link, admin_url
from admin_ext.plain import when
from admin_ext.review_queue import age_text
from hotlead.core.money import money_format
from hotlead.distribution.selectors import lead_detail
from hotlead.distribution.selectors.plain import lead_runs_plain
from hotlead.leads import selectors
from hotlead.leads.enums import LeadStatus
from hotlead.providers.models import Provider

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


PROVIDER_PAGE = "admin:providers_provider_change"


def _status_label(status: str | None) -> str:
    if not status:
        return "—"
    return LeadStatus(status).label if status in LeadStatus.values else status.replace("_", " ")


def _once(method):
    """Compute a read-only field once per lead per page: unfold renders a field's value more than once (tabs,
    error counts), and each of these reads the database."""
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


class LeadFieldsMixin:
    """The columns and read-only fields `LeadAdmin` shows; each reads through `hotlead.leads.selectors`."""

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
        return money_format(cents) if cents else "—"

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
        return (f"Sold to {len(assignments)} buyer{'s' if len(assignments) != 1 else ''} ({names}) "
                f"for {money_format(total)}.")

    @display(description="What happened")
    @_once
    def trace_plain(self, obj):
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
        return money_format(obj.budget_cents)

    @display(description="Earlier lead")
    @_once
    def duplicate_link(self, obj):
        dup = obj.duplicate_of
        if dup is None:
            return "—"
        return format_html('<a href="{}">{}</a> · {} · {} · {}', admin_url("admin:leads_lead_change", dup.pk),
                           dup.public_id, dup.get_status_display(), dup.email, when(dup.created_at))

    @display(description="Later duplicates")
    @_once
    def later_duplicates_links(self, obj):
        later = list(obj.later_duplicates.order_by("created_at", "id")[:20])
        if not later:
            return "—"
        return format_html_join(", ", '<a href="{}">{}</a>',
                                ((admin_url("admin:leads_lead_change", d.pk), str(d.public_id)[:8])
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
            ((admin_link(PROVIDER_PAGE, a.provider_id, label=a.provider.company_name), a.level.name,
              money_format(a.price_cents), a.get_status_display(), when(a.assigned_at)) for a in assignments),
        )

    @display(description="Engine trace (details)")
    @_once
    def distribution_trace(self, obj):
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
                  format_html_join(", ", "{}", ((admin_link(PROVIDER_PAGE, pid,
                                                           label=names.get(pid, f"provider #{pid}")),)
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
